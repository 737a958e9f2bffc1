// The popup's screens: one at a time in <main>, each change announced in the live region and
// focus moved to the new screen, so keyboard and screen reader users follow along.
import { el, icon, ICONS } from "./dom.js";

const main = () => document.getElementById("main")!;

/** Says something to screen reader users (role=status region). */
export function announce(message: string) {
  const region = document.getElementById("announcer");
  if (!region) return;
  // Clearing first makes a repeated message be read again.
  region.textContent = "";
  setTimeout(() => (region.textContent = message), 50);
}

export function showScreen(screen: HTMLElement, opts: { title: string; announce?: string; focus?: HTMLElement | null }) {
  const root = main();
  root.replaceChildren(screen);
  root.removeAttribute("aria-busy");
  document.title = `${opts.title} · One Runtime`;
  if (opts.announce) announce(opts.announce);
  const target = opts.focus ?? screen.querySelector<HTMLElement>("h1");
  if (target) {
    if (target.tagName === "H1") target.tabIndex = -1;
    target.focus({ preventScroll: false });
  }
}

export function showLoading(message = "Loading…") {
  const root = main();
  root.setAttribute("aria-busy", "true");
  root.replaceChildren(el("div", { class: "screen screen-center" }, el("div", { class: "spinner", "aria-hidden": "true" }), el("p", { class: "muted" }, message)));
  announce(message);
}

export type Tone = "success" | "error" | "warning" | "neutral";
export type Action = { label: string; primary?: boolean; onClick: () => void };

/** A final or blocking state: an icon, a title, a sentence, and what the user can do. */
export function showMessage(opts: { tone: Tone; icon: keyof typeof ICONS; title: string; detail?: string; actions?: Action[]; logoUrl?: string }) {
  const buttons = (opts.actions ?? []).map((a) => {
    const button = el("button", { type: "button", class: a.primary ? "button button-primary" : "button button-secondary" }, a.label);
    button.addEventListener("click", a.onClick);
    return button;
  });
  const screen = el(
    "div",
    { class: "screen screen-center message" },
    el("div", { class: `badge badge-${opts.tone}` }, icon(ICONS[opts.icon])),
    el("h1", { class: "title" }, opts.title),
    opts.detail ? el("p", { class: "muted detail" }, opts.detail) : null,
    buttons.length ? el("div", { class: "actions actions-stack" }, ...buttons) : null,
  );
  showScreen(screen, { title: opts.title, announce: opts.detail ? `${opts.title}. ${opts.detail}` : opts.title, focus: buttons.find((_, i) => opts.actions![i]!.primary) ?? null });
}

/** Closes the popup (allowed: the SDK opened it); harmless when the browser refuses. */
export function closeWindow() {
  window.close();
}
