// Small pieces shared by the pages.
import { useEffect, useState } from "preact/hooks";


// ErrorLine shows an error where it happened, in the member's words.
export function ErrorLine({ error }) {
  return <span class="error" role="alert">{String(error)}</span>;
}

// useModule loads a chunk of the app (a dynamic import) once it is wanted,
// now (when is true) or after want() is called: {module, error, want}.
export function useModule(load, when) {
  const [state, setState] = useState({ module: null, error: "" });
  const [wanted, setWanted] = useState(when);
  useEffect(() => {
    if (!(wanted || when) || state.module) return;
    load().then(
      (module) => setState({ module, error: "" }),
      (e) => setState({ module: null, error: e.message }),
    );
  }, [wanted, when]);
  return { ...state, want: () => setWanted(true) };
}
