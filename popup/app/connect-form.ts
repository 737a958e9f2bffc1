// The main screen: who and what is being connected, the connection name, the integration's
// fields, and the action its auth type calls for (Connect, or Continue to <Provider>).
import { ApiError, NetworkError, type ChosenSession, type Integration, type KeyValue, type Session } from "./api.js";
import { el, icon, ICONS } from "./dom.js";
import { connectionNameField, credentialField, type FieldControl } from "./fields.js";
import { announce, showScreen } from "./view.js";

export type FormValues = { connectionName: string | null; credentials: KeyValue[] };
export type FormActions = {
  submit(values: FormValues): Promise<void>;
  cancel(): Promise<void>;
  /** An error the form cannot show next to a field: the caller picks the screen. */
  fail(error: unknown): void;
  /** Back to the picker, when the end user may choose another integration. */
  back?: (() => void) | undefined;
};

const NETWORK_MESSAGE = "We couldn't reach One Runtime. Check your connection and try again.";

export function endUserLabel(endUser: Session["endUser"]): string {
  return endUser.name || endUser.email || endUser.id;
}

/**
 * The logo from this origin: the page's CSP allows no other (img-src 'self'), and logoUrl is built
 * from the public URL, which a proxy or a misconfiguration can make differ from where we are.
 */
export function logoSource(integration: Pick<Integration, "logoUrl" | "slug">): string {
  try {
    const url = new URL(integration.logoUrl, location.href);
    if (url.origin === location.origin) return url.href;
  } catch {
    // fall through to our own route
  }
  return `logos/${encodeURIComponent(integration.slug)}.svg`;
}

export function showConnectForm(session: ChosenSession, actions: FormActions) {
  const { integration } = session;
  const { idleLabel, busyLabel } = submitLabels(integration);

  const nameField = connectionNameField("connection-name", session.suggestedConnectionName || integration.name);
  const fields = integration.credentialFields.map((f, i) => credentialField(f, `field-${i}`));
  const controls: FieldControl[] = [...fields, nameField];
  const banner = el("div", { class: "banner", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "button button-primary" }, idleLabel);
  const cancel = el("button", { type: "button", class: "button button-secondary" }, "Cancel");
  const form = el(
    "form",
    { class: "form", novalidate: true, "aria-labelledby": "form-title" },
    fields.length ? el("div", { class: "fields" }, ...fields.map((f) => f.element)) : null,
    nameField.element,
    formNote(integration),
    banner,
    el("div", { class: "actions" }, cancel, submit),
  );

  let busy = false;
  const setBusy = (on: boolean) => {
    busy = on;
    submit.disabled = on;
    cancel.disabled = on;
    form.setAttribute("aria-busy", String(on));
    submit.replaceChildren(...(on ? [el("span", { class: "spinner spinner-small", "aria-hidden": "true" }), busyLabel] : [idleLabel]));
  };
  const onError = (error: unknown, retry: () => void) => {
    setBusy(false);
    if (error instanceof NetworkError) return showBanner(banner, NETWORK_MESSAGE, retry);
    if (error instanceof ApiError && error.code === "BAD_USER_INPUT") return showInputErrors(error, controls, banner);
    actions.fail(error);
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    banner.hidden = true;
    const invalid = controls.filter((c) => c.validate() !== undefined);
    if (invalid.length) return showFieldErrors(invalid);
    setBusy(true);
    announce(busyLabel);
    actions.submit(formValues(nameField, fields)).catch((error) => onError(error, () => form.requestSubmit()));
  });
  cancel.addEventListener("click", () => {
    if (busy) return;
    setBusy(true);
    actions.cancel().catch((error) => onError(error, () => cancel.click()));
  });

  let back: HTMLButtonElement | null = null;
  if (actions.back) {
    back = el("button", { type: "button", class: "link-button back" }, "← Choose another app");
    back.addEventListener("click", () => !busy && actions.back!());
  }
  showScreen(el("div", { class: "screen" }, back, formHeader(session), form), {
    title: `Connect ${integration.name}`,
    announce: `Connect ${integration.name}`,
    focus: fields[0]?.input ?? submit,
  });
}

/** OAuth's button leaves for the provider; the others connect from here. */
function submitLabels(integration: Integration): { idleLabel: string; busyLabel: string } {
  return integration.connectsAtProvider
    ? { idleLabel: `Continue to ${integration.name}`, busyLabel: `Opening ${integration.name}…` }
    : { idleLabel: "Connect", busyLabel: "Connecting…" };
}

/** What the end user typed; fields left empty are not sent. */
function formValues(nameField: FieldControl, fields: FieldControl[]): FormValues {
  return {
    connectionName: nameField.value() || null,
    credentials: fields.map((f) => ({ key: f.key, value: f.value() })).filter((v) => v.value !== ""),
  };
}

/** Who and what is being connected: the integration's logo, name and description, and the end user. */
function formHeader(session: ChosenSession): HTMLElement {
  const { integration } = session;
  const logo = el("img", { src: logoSource(integration), alt: "", width: 48, height: 48, class: "logo", decoding: "async" });
  logo.addEventListener("error", () => logo.classList.add("logo-missing"));
  return el(
    "header",
    { class: "intro" },
    el("div", { class: "logo-tile" }, logo),
    el("h1", { class: "title", id: "form-title" }, `Connect ${integration.name}`),
    integration.description ? el("p", { class: "muted description" }, integration.description) : null,
    el("p", { class: "identity" }, "Connecting as ", el("strong", {}, endUserLabel(session.endUser))),
  );
}

/** A line on what comes next: a sign-in at the provider (OAuth), or nothing to enter (no credentials). */
function formNote(integration: Integration): HTMLElement | null {
  if (integration.connectsAtProvider) {
    return el("p", { class: "note" }, `You'll sign in to ${integration.name} and approve access. This window returns here when you're done.`);
  }
  if (integration.authType === "NONE") return el("p", { class: "note" }, `${integration.name} needs no credentials.`);
  return null;
}

function showBanner(banner: HTMLElement, message: string, retry?: () => void) {
  const children: (Node | string)[] = [icon(ICONS.alert, "icon"), el("span", {}, message)];
  if (retry) {
    const again = el("button", { type: "button", class: "link-button" }, "Try again");
    again.addEventListener("click", retry);
    children.push(again);
  }
  banner.replaceChildren(...children);
  banner.hidden = false;
}

function showFieldErrors(invalid: FieldControl[]) {
  invalid[0]?.input.focus();
  announce(invalid.length === 1 ? `${invalid.length} field needs fixing` : `${invalid.length} fields need fixing`);
}

/** The server's field errors, each under its input; those with no input here go in the banner. */
function showInputErrors(error: ApiError, controls: FieldControl[], banner: HTMLElement) {
  const invalid: FieldControl[] = [];
  const elsewhere: string[] = [];
  for (const fe of error.fieldErrors) {
    const target = controls.find((c) => c.key === fe.field);
    if (target && !invalid.includes(target)) {
      target.setError(fe.message);
      invalid.push(target);
    } else if (!target) elsewhere.push(fe.message);
  }
  if (elsewhere.length || !invalid.length) showBanner(banner, elsewhere.length ? elsewhere.join(" ") : error.message);
  if (invalid.length) showFieldErrors(controls.filter((c) => invalid.includes(c)));
  else announce(error.message);
}
