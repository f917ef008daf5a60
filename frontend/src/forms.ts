/** Reading forms and fields the way jQuery's `serializeArray()` and `.val()` do. */

export interface FormEntry {
  name: string;
  value: string;
}

const NOT_SERIALIZED = new Set(["submit", "reset", "button", "image"]);

function selectedOptions(select: HTMLSelectElement): HTMLOptionElement[] {
  return Array.from(select.options).filter((option) => option.selected && !option.matches(":disabled"));
}

function fileNames(input: HTMLInputElement): string[] {
  return Array.from(input.files ?? [], (file) => file.name);
}

/**
 * The fields of `form` as `{name, value}` entries in document order: named,
 * enabled inputs, selects and textareas; checkboxes and radios only when
 * checked; one entry per selected option or per chosen file (its name).
 */
export function serializeForm(form: HTMLFormElement): FormEntry[] {
  const entries: FormEntry[] = [];
  for (const element of Array.from(form.elements)) {
    if (
      !(
        element instanceof HTMLInputElement ||
        element instanceof HTMLSelectElement ||
        element instanceof HTMLTextAreaElement
      )
    ) {
      continue; // buttons, fieldsets, outputs, objects
    }
    const name = element.name;
    if (!name || element.matches(":disabled")) continue;
    if (element instanceof HTMLSelectElement) {
      for (const option of selectedOptions(element)) entries.push({ name, value: option.value });
    } else if (element instanceof HTMLTextAreaElement) {
      entries.push({ name, value: element.value });
    } else if (NOT_SERIALIZED.has(element.type)) {
      continue;
    } else if (element.type === "checkbox" || element.type === "radio") {
      if (element.checked) entries.push({ name, value: element.value });
    } else if (element.type === "file") {
      for (const value of fileNames(element)) entries.push({ name, value });
    } else {
      entries.push({ name, value: element.value });
    }
  }
  return entries;
}

/**
 * The value of one element for a binding's `value` option: checked state of a
 * checkbox or radio, list of values of a multiple select, list of file names
 * of a file input, otherwise its `value` (null for an element without one).
 */
export function elementValue(element: Element): unknown {
  if (element instanceof HTMLInputElement) {
    if (element.type === "checkbox" || element.type === "radio") return element.checked;
    if (element.type === "file") return fileNames(element);
    return element.value;
  }
  if (element instanceof HTMLSelectElement && element.multiple) {
    return selectedOptions(element).map((option) => option.value);
  }
  const value = (element as { value?: unknown }).value;
  return value === undefined ? null : value;
}

/** The form an element belongs to (its `form` owner, else the closest one). */
export function formOf(element: Element): HTMLFormElement | null {
  if (element instanceof HTMLFormElement) return element;
  const owner = (element as { form?: unknown }).form;
  if (owner instanceof HTMLFormElement) return owner;
  return element.closest("form");
}
