// Small pieces shared by the pages.

// ErrorLine shows an error where it happened, in the member's words.
export function ErrorLine({ error }) {
  return <span class="error" role="alert">{String(error)}</span>;
}
