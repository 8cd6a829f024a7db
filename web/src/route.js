// Hash routes, so that a link deep-links into the page and the member serves
// one file: #/keys, #/key/<key> (the key's bytes percent-encoded), #/leases,
// #/cluster. Room is left for #/history/<key> and #/login.
import { useEffect, useState } from "preact/hooks";

export function encodeKey(bs) {
  return bs.replace(/[^A-Za-z0-9\-._~/]/g, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase());
}

export function decodeKey(s) {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

export function parseRoute(hash) {
  const h = hash.replace(/^#/, "") || "/keys";
  if (h.startsWith("/key/")) return { page: "keys", key: decodeKey(h.slice(5)) };
  const page = h.slice(1).split("/")[0];
  return { page: ["keys", "leases", "cluster"].includes(page) ? page : "keys", key: null };
}

export const keyLink = (bs) => "#/key/" + encodeKey(bs);

export function useRoute() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const f = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return route;
}
