// Value formats: JSON and YAML are recognised, checked and pretty-printed
// (YAML by the yaml library); anything else is text, or bytes shown as hex
// or base64.
import { parseDocument } from "yaml";

// detect guesses the format of text: "json", "yaml" (a mapping or a
// sequence, not a lone scalar) or "text".
export function detect(text) {
  const t = text.trim();
  if (!t) return "text";
  if (/^[[{]/.test(t)) {
    try {
      JSON.parse(t);
      return "json";
    } catch {
      /* not JSON: maybe YAML flow style */
    }
  }
  const doc = parseDocument(t);
  if (doc.errors.length === 0 && doc.contents && (doc.contents.items !== undefined)) return "yaml";
  return "text";
}

// check returns the first syntax error of text in format, in words, or "".
export function check(text, format) {
  if (format === "json") {
    try {
      JSON.parse(text);
      return "";
    } catch (e) {
      return `JSON: ${e.message}`;
    }
  }
  if (format === "yaml") {
    const doc = parseDocument(text);
    return doc.errors.length ? `YAML: ${doc.errors[0].message}` : "";
  }
  return "";
}

// pretty re-indents text in format; it throws the syntax error.
export function pretty(text, format) {
  if (format === "json") return JSON.stringify(JSON.parse(text), null, 2);
  if (format === "yaml") {
    const doc = parseDocument(text);
    if (doc.errors.length) throw new Error(`YAML: ${doc.errors[0].message}`);
    return doc.toString({ indent: 2 });
  }
  return text;
}
