// The picker: the catalog this session offers, by category, with the server's ranked,
// typo-tolerant search as the end user types. Plain controls only: a labelled search box, a group
// of category toggle buttons, and a list of buttons (one per integration), so Tab, Enter and a
// screen reader cover everything; the result count is announced as it changes.
import { PickerCategoriesDocument, SearchIntegrationsDocument, type SearchIntegrationsQuery } from "../generated/operations.js";
import { ApiError, NetworkError, type Api, type Session } from "./api.js";
import { endUserLabel, logoSource } from "./connect-form.js";
import { el } from "./dom.js";
import { announce, showScreen } from "./view.js";

export type PickerActions = {
  choose(slug: string): Promise<void>;
  cancel(): Promise<void>;
  fail(error: unknown): void;
};

type Found = SearchIntegrationsQuery["hostedConnectionSession"]["availableIntegrations"];

const PAGE_SIZE = 50;
/** One search per pause in typing: fast typists stay well inside the session's request budget. */
const TYPING_PAUSE_MS = 200;
/** Errors of a pick the end user can act on here: another integration may do. */
const PICK_REFUSALS = ["INTEGRATION_NOT_ALLOWED", "INTEGRATION_NOT_CONFIGURED", "NOT_FOUND"];

const countText = (n: number, search: string) => (n === 0 ? (search ? `No apps match “${search}”` : "No apps to show") : n === 1 ? "1 app" : `${n} apps`);

export function showPicker(session: Session, api: Api, actions: PickerActions): void {
  const search = el("input", {
    id: "picker-search",
    class: "input",
    type: "search",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Search by name or what it does",
    "aria-describedby": "picker-count",
    "aria-controls": "picker-results",
  });
  const searchForm = el("form", { class: "picker-search", role: "search", "aria-label": "Apps" }, el("label", { class: "label", for: "picker-search" }, "Search apps"), search);
  const categories = el("div", { class: "chips", role: "group", "aria-label": "Categories" });
  const count = el("p", { id: "picker-count", class: "muted picker-count" }, "Loading…");
  const results = el("ul", { id: "picker-results", class: "results", "aria-labelledby": "picker-title", "aria-busy": "true" });
  const more = el("button", { type: "button", class: "button button-secondary more", hidden: true }, "Show more apps");
  const banner = el("div", { class: "banner", role: "alert", hidden: true });
  const cancel = el("button", { type: "button", class: "button button-secondary" }, "Cancel");

  let category: string | null = null;
  let cursor: string | null = null;
  let sequence = 0;
  let busy = false;
  let typing: ReturnType<typeof setTimeout> | undefined;

  const resultItem = (node: Found["nodes"][number]) => {
    const descriptionId = `desc-${node.slug}`;
    const logo = el("img", { src: logoSource(node), alt: "", width: 32, height: 32, class: "result-logo", decoding: "async", loading: "lazy" });
    logo.addEventListener("error", () => logo.classList.add("logo-missing"));
    const button = el(
      "button",
      { type: "button", class: "result", "data-slug": node.slug, "aria-describedby": descriptionId },
      logo,
      el("span", { class: "result-text" }, el("span", { class: "result-name" }, node.name), el("span", { class: "result-description", id: descriptionId }, node.description)),
    );
    button.addEventListener("click", () => void pick(node.slug, node.name));
    return el("li", {}, button);
  };

  /** Runs the current query; `append` adds the next page. Answers to superseded queries are dropped. */
  async function load(append = false) {
    const mine = ++sequence;
    const term = search.value.trim();
    results.setAttribute("aria-busy", "true");
    try {
      const data = await api(SearchIntegrationsDocument, { search: term || null, category, first: PAGE_SIZE, after: append ? cursor : null });
      if (mine !== sequence) return;
      const found = data.hostedConnectionSession.availableIntegrations;
      const items = found.nodes.map(resultItem);
      if (append) results.append(...items);
      else results.replaceChildren(...items);
      cursor = found.pageInfo.endCursor;
      more.hidden = !found.pageInfo.hasNextPage;
      const text = countText(found.totalCount, term);
      count.textContent = text;
      announce(text);
      if (append) items[0]?.querySelector("button")?.focus();
    } catch (error) {
      if (mine !== sequence) return;
      if (error instanceof NetworkError) return showBanner("We couldn't reach One Runtime. Check your connection and try again.");
      if (error instanceof ApiError && error.code === "RATE_LIMITED") return showBanner("Too many searches at once. Wait a moment, then type again.");
      actions.fail(error);
    } finally {
      if (mine === sequence) results.setAttribute("aria-busy", "false");
    }
  }

  async function loadCategories() {
    try {
      const data = await api(PickerCategoriesDocument);
      const all = el("button", { type: "button", class: "chip", "aria-pressed": "true" }, "All");
      const buttons = [all];
      all.addEventListener("click", () => select(all, null));
      for (const c of data.hostedConnectionSession.availableCategories) {
        // Read as "CRM, 12 apps"; seen as "CRM 12".
        const countLabel = el("span", { class: "chip-count" }, el("span", { class: "visually-hidden" }, ", "), String(c.integrationCount), el("span", { class: "visually-hidden" }, c.integrationCount === 1 ? " app" : " apps"));
        const b = el("button", { type: "button", class: "chip", "aria-pressed": "false" }, c.name, countLabel);
        b.addEventListener("click", () => select(b, c.slug));
        buttons.push(b);
      }
      categories.replaceChildren(...buttons);
    } catch {
      // The list still works without the category filter.
    }
  }

  function select(button: HTMLButtonElement, slug: string | null) {
    category = slug;
    for (const b of categories.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
    void load();
  }

  async function pick(slug: string, name: string) {
    if (busy) return;
    busy = true;
    banner.hidden = true;
    results.setAttribute("aria-busy", "true");
    announce(`Opening ${name}…`);
    try {
      await actions.choose(slug);
    } catch (error) {
      busy = false;
      results.setAttribute("aria-busy", "false");
      if (error instanceof ApiError && PICK_REFUSALS.includes(error.code)) return showBanner(`${name} can't be connected here. Choose another app.`);
      if (error instanceof NetworkError) return showBanner("We couldn't reach One Runtime. Check your connection and try again.");
      actions.fail(error);
    }
  }

  function showBanner(message: string) {
    banner.replaceChildren(el("span", {}, message));
    banner.hidden = false;
  }

  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => void load(), TYPING_PAUSE_MS);
  });
  // Enter in the search box goes to the best match rather than submitting anything.
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(typing);
    results.querySelector("button")?.focus();
  });
  more.addEventListener("click", () => void load(true));
  cancel.addEventListener("click", () => {
    if (busy) return;
    busy = true;
    actions.cancel().catch((error) => {
      busy = false;
      actions.fail(error);
    });
  });

  const screen = el(
    "div",
    { class: "screen picker" },
    el(
      "header",
      { class: "intro intro-compact" },
      el("h1", { class: "title", id: "picker-title" }, "Choose an app to connect"),
      el("p", { class: "identity" }, "Connecting as ", el("strong", {}, endUserLabel(session.endUser))),
    ),
    searchForm,
    categories,
    count,
    banner,
    results,
    more,
    el("div", { class: "actions" }, cancel),
  );
  showScreen(screen, { title: "Choose an app", announce: "Choose an app to connect", focus: search });
  void loadCategories();
  void load();
}
