/**
 * Hands a file fetched with the token to the browser as a download. Files behind the API need
 * its Authorization header, which a plain link cannot send (and a token never goes in a URL).
 */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started from the URL by now; revoke it on the next turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
