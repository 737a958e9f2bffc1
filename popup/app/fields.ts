// One labelled input per value the integration needs: text, password with a show/hide toggle, or
// a select; help text and link; an error slot tied to the input (aria-describedby/aria-invalid).
// Checks mirror the server's (server/connections/credentials.ts), so most mistakes never leave
// the page; the server stays the judge and its field errors land in the same slots.
import type { CredentialField } from "./api.js";
import { el, icon, ICONS } from "./dom.js";

export type FieldControl = {
  key: string;
  input: HTMLInputElement | HTMLSelectElement;
  element: HTMLElement;
  value(): string;
  /** Shows (or clears, with undefined) an error under the input. */
  setError(message: string | undefined): void;
  /** The client-side check; returns the message it shows. */
  validate(): string | undefined;
};

const MAX_VALUE_LENGTH = 4096;

function patternOf(source: string | null): RegExp | undefined {
  if (!source) return undefined;
  try {
    return new RegExp(`^(?:${source})$`, "u");
  } catch {
    return undefined; // the server still checks
  }
}

export function checkValue(field: Pick<CredentialField, "label" | "optional" | "pattern" | "placeholder">, value: string): string | undefined {
  if (value === "") return field.optional ? undefined : `${field.label} is required`;
  if (value.length > MAX_VALUE_LENGTH) return `${field.label} is too long`;
  const pattern = patternOf(field.pattern);
  if (pattern && !pattern.test(value)) {
    return field.placeholder ? `${field.label} doesn't look right (expected something like ${field.placeholder})` : `${field.label} doesn't look right`;
  }
  return undefined;
}

/** Wires the error slot and live re-checking shared by every kind of field. */
function control(
  key: string,
  id: string,
  input: HTMLInputElement | HTMLSelectElement,
  element: HTMLElement,
  describedBy: string[],
  check: (value: string) => string | undefined,
): FieldControl {
  const error = el("p", { class: "field-error", id: `${id}-error`, hidden: true });
  element.appendChild(error);
  const value = () => input.value.trim();
  const setError = (message: string | undefined) => {
    error.replaceChildren(...(message ? [icon(ICONS.alert, "icon icon-small"), message] : []));
    error.hidden = !message;
    input.setAttribute("aria-describedby", [...(message ? [error.id] : []), ...describedBy].join(" "));
    if (!input.getAttribute("aria-describedby")) input.removeAttribute("aria-describedby");
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  const validate = () => {
    const message = check(value());
    setError(message);
    return message;
  };
  setError(undefined);
  // Judged on submit, then again as the user fixes it. Not on blur: an error appearing while the
  // pointer is pressing Connect moves the button away and swallows the click.
  input.addEventListener(input instanceof HTMLSelectElement ? "change" : "input", () => {
    if (input.getAttribute("aria-invalid")) validate();
  });
  return { key, input, element, value, setError, validate };
}

export function credentialField(field: CredentialField, id: string): FieldControl {
  const label = el("label", { for: id, class: "label" }, field.label, field.optional ? el("span", { class: "optional" }, " (optional)") : null);
  const { input, wrap } = field.options?.length ? selectInput(field, field.options, id) : textInput(field, id);
  const help = fieldHelp(field, id);
  const element = el("div", { class: "field" }, label, wrap, help);
  return control(field.key, id, input, element, help ? [help.id] : [], (value) => checkValue(field, value));
}

type InputAndWrap<T> = { input: T; wrap: HTMLElement };

function selectInput(field: CredentialField, options: NonNullable<CredentialField["options"]>, id: string): InputAndWrap<HTMLSelectElement> {
  const select = el("select", { id, name: field.key, class: "input", required: !field.optional });
  if (field.optional || !field.defaultValue) select.appendChild(el("option", { value: "" }, field.optional ? "None" : "Choose…"));
  for (const o of options) select.appendChild(el("option", { value: o.value }, o.label));
  select.value = field.defaultValue ?? "";
  return { input: select, wrap: el("div", { class: "select-wrap" }, select) };
}

function textInput(field: CredentialField, id: string): InputAndWrap<HTMLInputElement> {
  const text = el("input", {
    id,
    name: field.key,
    class: "input",
    type: field.secret ? "password" : "text",
    placeholder: field.placeholder ?? undefined,
    required: !field.optional,
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    maxlength: MAX_VALUE_LENGTH,
  });
  text.value = field.defaultValue ?? "";
  if (!field.secret) return { input: text, wrap: el("div", { class: "input-wrap" }, text) };
  return { input: text, wrap: el("div", { class: "input-wrap has-reveal" }, text, revealToggle(text, field.label, id)) };
}

/** Show/Hide for a secret, so the end user can check what they pasted. */
function revealToggle(text: HTMLInputElement, label: string, id: string): HTMLButtonElement {
  const toggle = el("button", { type: "button", class: "reveal", "aria-controls": id, "aria-pressed": "false", "aria-label": `Show ${label}` }, "Show");
  toggle.addEventListener("click", () => {
    const show = text.type === "password";
    text.type = show ? "text" : "password";
    toggle.textContent = show ? "Hide" : "Show";
    toggle.setAttribute("aria-pressed", String(show));
    toggle.setAttribute("aria-label", `${show ? "Hide" : "Show"} ${label}`);
  });
  return toggle;
}

/** The field's help text and "Learn more" link, if it has either. */
function fieldHelp(field: CredentialField, id: string): HTMLElement | null {
  if (!field.helpText && !field.helpUrl) return null;
  const href = field.helpUrl ? safeUrl(field.helpUrl) : undefined;
  return el(
    "p",
    { class: "help", id: `${id}-help` },
    field.helpText ? `${field.helpText} ` : "",
    href
      ? el(
          "a",
          { href, target: "_blank", rel: "noopener noreferrer", class: "help-link" },
          "Learn more",
          el("span", { class: "visually-hidden" }, " (opens in a new tab)"),
          icon(ICONS.external, "icon icon-small"),
        )
      : null,
  );
}

/** The name the connection gets in the app; prefilled, editable, optional. */
export function connectionNameField(id: string, initial: string): FieldControl {
  const input = el("input", { id, name: "connectionName", class: "input", type: "text", maxlength: 100, autocomplete: "off" });
  input.value = initial;
  const hint = el("p", { class: "help", id: `${id}-help` }, "How this connection appears in the app.");
  const element = el("div", { class: "field" }, el("label", { for: id, class: "label" }, "Connection name"), el("div", { class: "input-wrap" }, input), hint);
  return control("connectionName", id, input, element, [hint.id], (value) =>
    // eslint-disable-next-line no-control-regex
    value.length > 100 ? "Use at most 100 characters" : /[\u0000-\u001f\u007f]/.test(value) ? "Remove control characters" : undefined,
  );
}

/** Only http(s) links leave the page: a catalog entry cannot smuggle in `javascript:`. */
function safeUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}
