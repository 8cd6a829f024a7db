// Listing one level of the key tree without reading the whole subtree.
//
// The store is flat: a "directory" P/ is every key that starts with P/. To
// list the direct children of a prefix the page asks for keys only, a few
// at a time (range with limit and keys_only), and, each time it meets a key
// inside a child directory, jumps past that whole directory (the next range
// starts at the directory's prefix end). So one page of children costs at
// most one small range per directory child, whatever lies below them, and
// 100k keys under one prefix open as fast as 10.
import { range } from "./api.js";
import { prefixEnd } from "./bytes.js";

// Node is one child of a listed prefix: name (the bytes between the prefix
// and the next separator), key (prefix+name), dir (keys exist below
// key+sep), leaf (the key itself exists).

// listChildren returns up to pageSize children of prefix, starting at the
// key "from" (the cursor a previous page returned; "" for the first page),
// and the cursor of the next page (null at the end). revision pins every
// range of one listing to the same revision (0: the latest).
export async function listChildren(prefix, sep, from, pageSize, revision = 0) {
  const end = prefixEnd(prefix);
  const children = [];
  let start = from || prefix;
  let rev = revision;
  const batch = Math.max(pageSize, 50);
  while (children.length < pageSize) {
    const r = await range(start, end, { limit: batch, keysOnly: true, revision: rev });
    rev = rev || r.revision;
    let skipUntil = "";
    for (const { key } of r.kvs) {
      if (key < skipUntil) continue; // inside a child directory already listed
      const rest = key.slice(prefix.length);
      const i = sep ? rest.indexOf(sep) : -1;
      const name = i < 0 ? rest : rest.slice(0, i);
      const last = children[children.length - 1];
      let node = last && last.name === name ? last : null;
      if (!node) {
        if (children.length === pageSize) return { children, next: key, revision: rev };
        node = { name, key: prefix + name, dir: false, leaf: false };
        children.push(node);
      }
      if (i < 0) {
        node.leaf = true;
      } else {
        node.dir = true;
        // The rest of prefix+name+sep belongs to this child: jump past it.
        skipUntil = prefixEnd(prefix + name + sep);
      }
    }
    if (!r.more || r.kvs.length === 0) return { children, next: null, revision: rev };
    const after = r.kvs[r.kvs.length - 1].key + "\0";
    start = skipUntil > after ? skipUntil : after;
    if (start === "\0" || (end !== "\0" && start >= end)) return { children, next: null, revision: rev };
  }
  return { children, next: start, revision: rev };
}

// countUnder counts the keys that start with prefix (a delete confirmation
// shows it first).
export async function countUnder(prefix) {
  return (await range(prefix, prefixEnd(prefix), { countOnly: true })).count;
}

// searchPrefix returns a page of keys starting with prefix, from "from" on.
export async function searchPrefix(prefix, from, pageSize) {
  const r = await range(from || prefix, prefixEnd(prefix), { limit: pageSize, keysOnly: true });
  const next = r.more && r.kvs.length ? r.kvs[r.kvs.length - 1].key + "\0" : null;
  return { keys: r.kvs.map((k) => k.key), next };
}
