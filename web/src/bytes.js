// Keys and values are handled as "byte strings": JS strings whose every
// char code is one byte (0-255), as atob returns them. They compare in the
// store's byte order, and base64 is one call away.

export const toB64 = (bs) => btoa(bs);
export const fromB64 = (b64) => (b64 ? atob(b64) : "");

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export function fromText(text) {
  let out = "";
  for (const b of enc.encode(text)) out += String.fromCharCode(b);
  return out;
}

function toBytes(bs) {
  const a = new Uint8Array(bs.length);
  for (let i = 0; i < bs.length; i++) a[i] = bs.charCodeAt(i);
  return a;
}

// asText returns the UTF-8 text of bs, or null when bs is not printable
// UTF-8 (control characters other than tab and newlines count as binary).
export function asText(bs) {
  let s;
  try {
    s = dec.decode(toBytes(bs));
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) ? null : s;
}

export function toHex(bs) {
  let out = "";
  for (let i = 0; i < bs.length; i++) out += bs.charCodeAt(i).toString(16).padStart(2, "0");
  return out;
}

export function fromHex(hex) {
  const h = hex.replace(/\s+/g, "");
  if (h.length % 2 || /[^0-9a-fA-F]/.test(h)) throw new Error("not hex: an even number of 0-9 a-f digits is expected");
  let out = "";
  for (let i = 0; i < h.length; i += 2) out += String.fromCharCode(parseInt(h.slice(i, i + 2), 16));
  return out;
}

// show renders bytes for a person: the text when it is text, else hex or
// base64 as chosen ("hex" | "base64"), marked so that it is not taken for text.
export function show(bs, binaryAs) {
  const t = asText(bs);
  if (t !== null) return t;
  return binaryAs === "base64" ? `b64:${toB64(bs)}` : `0x${toHex(bs)}`;
}

// prefixEnd is the range_end of every key starting with bs (etcd's
// GetPrefixRangeEnd): bs with its last byte below 0xff incremented and what
// follows dropped; "\0" (every key) when there is none.
export function prefixEnd(bs) {
  for (let i = bs.length - 1; i >= 0; i--) {
    const c = bs.charCodeAt(i);
    if (c < 0xff) return bs.slice(0, i) + String.fromCharCode(c + 1);
  }
  return "\0";
}
