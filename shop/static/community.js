// The community's ask page: suggest articles and solved questions as the title is typed.
// Loaded on that page only; without it, the "Find answers" button does the same on the server.
(() => {
  const form = document.getElementById("ask-form");
  if (!form) return;
  const title = form.querySelector("#title");
  const box = document.getElementById("suggestion-box");
  const list = document.getElementById("suggestions");
  const empty = document.getElementById("no-suggestions");
  let timer = null;
  let latest = 0;

  function item(hit) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = hit.url;
    link.textContent = hit.title;
    const snippet = document.createElement("span");
    snippet.className = "muted";
    snippet.textContent = " " + hit.snippet + " ";
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "link";
    button.name = "answered_by";
    button.value = hit.kind + ":" + hit.id;
    button.textContent = form.dataset.resolveLabel;
    li.append(link, snippet, button);
    return li;
  }

  async function refresh() {
    const text = title.value.trim();
    const ticket = ++latest;
    if (text.length < 2) {
      list.replaceChildren();
      box.hidden = true;
      return;
    }
    const url = form.dataset.suggestUrl + "?q=" + encodeURIComponent(text);
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok || ticket !== latest) return;
      const data = await response.json();
      if (ticket !== latest) return;
      list.replaceChildren(...data.items.map(item));
      empty.hidden = data.items.length > 0;
      box.hidden = false;
    } catch (error) {
      // Offline or the server failed: the "Find answers" button still works.
    }
  }

  title.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
