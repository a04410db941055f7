// The operators' item picker: the list of items follows the search as it is typed. Without this
// script the search button asks the server for the same list.
(() => {
  const search = document.querySelector("form[data-picker]");
  if (!search) return;
  const list = document.querySelector(search.dataset.picker);
  const input = search.querySelector("input[type=search]");
  let timer = null;
  let latest = 0;

  async function refresh() {
    const ticket = ++latest;
    const url = new URL(search.action, window.location.href);
    url.hash = "";
    url.searchParams.set("q", input.value.trim());
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok || ticket !== latest) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector(search.dataset.picker);
      const picked = list.querySelector("input[type=radio]:checked");
      if (!fresh || ticket !== latest) return;
      list.replaceChildren(...fresh.children);
      if (picked) {
        const again = list.querySelector(`input[type=radio][value="${picked.value}"]`);
        if (again) again.checked = true;
      }
    } catch (error) {
      // Offline or the server failed: the search button still works.
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
