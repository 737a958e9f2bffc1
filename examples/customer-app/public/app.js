// The example page: featured categories first, a search that filters as you type, a Connect
// button per integration that opens One Runtime's hosted popup, and the signed-in user's
// connections (refreshed once the popup's promise settles), each with Disconnect.
// It talks only to its own backend (/api/...), which holds the API key, and to the SDK.

const $ = (id) => document.getElementById(id);

/** Creates an element; children are strings (set as text, never HTML) or elements. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Calls our backend; rejects with its `{ error: { code, message } }`. */
async function api(method, path, body, signal) {
  const response = await fetch(path, {
    method,
    signal,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(payload.error?.message ?? `HTTP ${response.status}`);
    error.code = payload.error?.code;
    throw error;
  }
  return payload;
}

let statusTimer;
function say(message, tone = "info") {
  const status = $("status");
  status.replaceChildren(message);
  status.dataset.tone = tone;
  clearTimeout(statusTimer);
  if (tone !== "error") statusTimer = setTimeout(() => status.replaceChildren(), 6000);
}

function logo(integration, size = 32) {
  const img = el("img", { src: integration.logoUrl, alt: "", width: size, height: size, class: "logo", loading: "lazy" });
  img.addEventListener("error", () => (img.style.visibility = "hidden"));
  return img;
}

export async function startPage(oneRuntime) {
  const state = { user: undefined, categories: [], category: undefined, search: "", connections: [] };
  let searchController;

  // --- the catalog ---------------------------------------------------------------------------

  function categoryChip(c) {
    return el(
      "li",
      {},
      el(
        "button",
        {
          type: "button",
          class: "chip",
          "aria-pressed": String(!state.search && state.category === c.slug),
          onclick: () => {
            state.category = c.slug;
            state.search = "";
            $("search").value = "";
            renderCategories();
            void loadIntegrations();
          },
        },
        c.name,
        el("span", { class: "count" }, ` ${c.integrationCount}`),
      ),
    );
  }

  function renderCategories() {
    // Featured categories first and prominent; the rest in a quieter row below.
    $("featured-categories").replaceChildren(...state.categories.filter((c) => c.featured).map(categoryChip));
    $("more-categories").replaceChildren(...state.categories.filter((c) => !c.featured).map(categoryChip));
  }

  function renderIntegrations(integrations, totalCount) {
    const connected = new Set(state.connections.map((c) => c.integrationSlug));
    const category = state.categories.find((c) => c.slug === state.category);
    $("results-summary").textContent = state.search
      ? `${totalCount} result${totalCount === 1 ? "" : "s"} for "${state.search}"`
      : `${category ? category.name : "All"}: ${totalCount} integration${totalCount === 1 ? "" : "s"}`;
    $("integrations").replaceChildren(
      ...integrations.map((integration) =>
        el(
          "li",
          { class: "integration", "data-slug": integration.slug },
          logo(integration, 40),
          el(
            "div",
            { class: "integration-text" },
            el("strong", {}, integration.name),
            connected.has(integration.slug) ? el("span", { class: "tag" }, "Connected") : null,
            el("p", { class: "muted small" }, integration.description),
          ),
          el("button", { type: "button", class: "primary", "aria-label": `Connect ${integration.name}`, onclick: (event) => connect(integration, event.currentTarget) }, "Connect"),
        ),
      ),
    );
  }

  async function loadIntegrations() {
    // Only the latest keystroke's answer counts: abort the one in flight.
    searchController?.abort();
    const controller = (searchController = new AbortController());
    const params = new URLSearchParams();
    if (state.search) params.set("search", state.search);
    else if (state.category) params.set("category", state.category);
    $("integrations").setAttribute("aria-busy", "true");
    try {
      const { integrations, totalCount } = await api("GET", `/api/one-runtime/integrations?${params}`, undefined, controller.signal);
      renderIntegrations(integrations, totalCount);
    } catch (error) {
      if (error.name !== "AbortError") say(`Could not load integrations: ${error.message}`, "error");
    } finally {
      if (searchController === controller) $("integrations").removeAttribute("aria-busy");
    }
  }

  let debounce;
  // No integration named: the hosted window shows the catalog and the user picks there.
  $("choose-in-popup").addEventListener("click", (event) => connect(undefined, event.currentTarget));

  $("search").addEventListener("input", (event) => {
    state.search = event.target.value.trim();
    renderCategories();
    clearTimeout(debounce);
    debounce = setTimeout(loadIntegrations, 150);
  });

  // --- connecting ------------------------------------------------------------------------------

  /** Lets the user open the popup with a fresh click, when the browser blocked the first one. */
  function askForAnotherClick(integration, sessionToken) {
    return new Promise((resolve) => {
      const button = el(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: () => {
            // Synchronously in the click: that is what lets the popup through.
            resolve(oneRuntime.connections.open({ sessionToken }));
            $("status").replaceChildren();
          },
        },
        `Open the ${integration.name} window`,
      );
      $("status").dataset.tone = "warning";
      $("status").replaceChildren("Your browser blocked the connection window. ", button);
    });
  }

  /**
   * Connects one integration, or (integration undefined) lets the user choose in the popup: the
   * session then offers the whole catalog, and the result names what was picked.
   */
  async function connect(integration, button) {
    const idleLabel = button.textContent;
    button.disabled = true;
    button.textContent = "Connecting…";
    try {
      // 1. Our backend creates a hosted connection session for the signed-in user.
      const { session_token: sessionToken } = await api(
        "POST",
        "/api/one-runtime/hosted-connection-sessions",
        integration
          ? {
              integration_slug: integration.slug,
              end_user_id: state.user.id,
              end_user_name: state.user.name,
              end_user_email: state.user.email,
              suggested_connection_name: `${state.user.name.split(" ")[0]}'s ${integration.name}`,
            }
          : { let_user_choose: true, end_user_id: state.user.id, end_user_name: state.user.name, end_user_email: state.user.email },
      );
      // 2. The SDK opens the popup and settles with how the flow ended.
      let result = await oneRuntime.connections.open({ sessionToken });
      if (result.status === "failed" && result.error?.code === "popup_blocked") result = await askForAnotherClick(integration ?? { name: "connection" }, sessionToken);

      // 3. Whatever happened, show the connections as the backend now sees them.
      await loadConnections().catch(() => {});
      // The result names the integration connected: the one asked for, or the one the user picked.
      const name = integration?.name ?? state.connections.find((c) => c.id === result.connectionId)?.integration?.name ?? result.integrationSlug ?? "the tool";
      if (result.status === "connected") say(`${name} is connected.`, "success");
      else if (result.status === "cancelled") say(`Nothing was connected${integration ? ` to ${name}` : ""}.`);
      else if (result.status === "expired") say("The connection window expired. Please try again.", "warning");
      else say(`Could not connect ${name}: ${result.error?.message ?? "unknown error"}`, "error");
    } catch (error) {
      say(`Could not start connecting${integration ? ` ${integration.name}` : ""}: ${error.message}`, "error");
    } finally {
      button.disabled = false;
      button.textContent = idleLabel;
    }
  }

  // --- the user's connections ------------------------------------------------------------------

  function renderConnections() {
    $("no-connections").hidden = state.connections.length > 0;
    $("connections").replaceChildren(
      ...state.connections.map((connection) => {
        const integration = connection.integration ?? { name: connection.integrationSlug, logoUrl: "" };
        return el(
          "li",
          { class: "connection", "data-id": connection.id },
          logo(integration),
          el(
            "div",
            { class: "connection-text" },
            el("strong", {}, connection.name),
            el(
              "p",
              { class: "muted small" },
              `${integration.name} · ${connection.status === "ACTIVE" ? "Active" : "Needs re-authorization"} · since ${new Date(connection.createdAt).toLocaleDateString()}`,
            ),
          ),
          ...(connection.integrationSlug === "oauth2-sandbox"
            ? [el("button", { type: "button", "aria-label": `Show resources of ${connection.name}`, onclick: (event) => showResources(connection, event.currentTarget) }, "Show resources")]
            : []),
          el("button", { type: "button", class: "danger", "aria-label": `Disconnect ${connection.name}`, onclick: (event) => disconnect(connection, event.currentTarget) }, "Disconnect"),
        );
      }),
    );
  }

  async function loadConnections() {
    const { connections } = await api("GET", "/api/one-runtime/connections");
    state.connections = connections;
    renderConnections();
    // The "Connected" tags in the catalog follow the list.
    for (const item of $("integrations").children) {
      const has = connections.some((c) => c.integrationSlug === item.dataset.slug);
      const tag = item.querySelector(".tag");
      if (has && !tag) item.querySelector(".integration-text strong").after(el("span", { class: "tag" }, "Connected"));
      if (!has && tag) tag.remove();
    }
  }

  // The backend reads the sandbox's API through One Runtime's proxy; no token reaches this page.
  async function showResources(connection, button) {
    button.disabled = true;
    try {
      const { resources } = await api("GET", `/api/one-runtime/connections/${encodeURIComponent(connection.id)}/resources`);
      const item = button.closest("li");
      item.querySelector(".resources")?.remove();
      item.append(el("ul", { class: "resources muted small" }, ...resources.map((r) => el("li", {}, `${r.name} (${r.kind})`))));
    } catch (error) {
      say(`Could not read ${connection.name}'s resources: ${error.message}`, "error");
    }
    button.disabled = false;
  }

  async function disconnect(connection, button) {
    button.disabled = true;
    try {
      await api("DELETE", `/api/one-runtime/connections/${encodeURIComponent(connection.id)}`);
      say(`Disconnected ${connection.name}.`, "success");
    } catch (error) {
      say(`Could not disconnect ${connection.name}: ${error.message}`, "error");
      button.disabled = false;
    }
    await loadConnections();
  }

  // --- activity: the user's events, and whether each one's webhook reached the backend -----------

  const EVENT_LABELS = {
    CONNECTION_CREATED: "Connected",
    CONNECTION_RECONNECTED: "Reconnected",
    CONNECTION_DELETED: "Disconnected",
    CONNECTION_NEEDS_REAUTH: "Needs re-authorization",
    CONNECTION_REFRESH_FAILED: "Token refresh failed",
    CONNECTION_HEALTH_DEGRADED: "Health check failing",
    CONNECTION_HEALTH_RECOVERED: "Health check passing again",
    SESSION_FAILED: "Connection attempt failed",
    SESSION_CANCELLED: "Connection attempt cancelled",
    SESSION_EXPIRED: "Connection attempt expired",
  };

  async function loadActivity() {
    const { events } = await api("GET", "/api/one-runtime/events");
    $("no-activity").hidden = events.length > 0;
    $("activity").replaceChildren(
      ...events.map((e) =>
        el(
          "li",
          { class: "event", "data-id": e.id, "data-type": e.type },
          el("strong", {}, EVENT_LABELS[e.type] ?? e.type),
          el(
            "p",
            { class: "muted small" },
            `${e.integrationSlug ?? ""} · ${new Date(e.createdAt).toLocaleTimeString()} · ${e.webhookReceivedAt ? "webhook received" : "webhook pending"}`,
          ),
        ),
      ),
    );
  }

  // --- start -----------------------------------------------------------------------------------

  try {
    const [user, { categories }] = await Promise.all([api("GET", "/api/me"), api("GET", "/api/one-runtime/categories")]);
    state.user = user;
    state.categories = categories;
    state.category = categories.find((c) => c.featured)?.slug ?? categories[0]?.slug;
    $("signed-in-as").textContent = `Signed in as ${user.name}`;
    renderCategories();
    await loadConnections();
    await loadIntegrations();
    await loadActivity();
    setInterval(() => loadActivity().catch(() => {}), 3_000);
    document.body.dataset.ready = "true";
  } catch (error) {
    say(`Could not load the page: ${error.message}`, "error");
  }
}
