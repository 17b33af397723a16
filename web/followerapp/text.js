// Text of chat messages.

// linkify turns the http(s) URLs of a message's text into links that
// open in a new tab, as DOM nodes (never HTML): punctuation that ends a
// sentence, and a closing bracket the URL did not open, stay outside the
// link. The follower app and the agents' chat page both use it.
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
export function linkify(text) {
  const out = [];
  let at = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0];
    for (;;) {
      const last = url.slice(-1);
      const opens = { ")": "(", "]": "[", "}": "{" }[last];
      if (".,;:!?'*".includes(last) || (opens && url.split(opens).length <= url.split(last).length - 1)) url = url.slice(0, -1);
      else break;
    }
    if (!/^https?:\/\/[^/?#]/i.test(url)) continue;
    if (match.index > at) out.push(document.createTextNode(text.slice(at, match.index)));
    const a = document.createElement("a");
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = url;
    out.push(a);
    at = match.index + url.length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}
