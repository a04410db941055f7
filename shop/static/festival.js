// The festival page's countdown to its next phase; the page shows the same figure without it.
(() => {
  const pad = (n) => String(n).padStart(2, "0");
  const text = (seconds, daysFormat) => {
    const days = Math.floor(seconds / 86400);
    let rest = seconds % 86400;
    const hours = Math.floor(rest / 3600);
    rest %= 3600;
    const clock = `${pad(hours)}:${pad(Math.floor(rest / 60))}:${pad(rest % 60)}`;
    return days ? daysFormat.replace("{days}", days).replace("{clock}", clock) : clock;
  };
  document.querySelectorAll("time[data-countdown]").forEach((element) => {
    const target = Date.parse(element.getAttribute("datetime"));
    if (Number.isNaN(target) || target <= Date.now()) return;
    const tick = () => {
      const left = Math.max(0, Math.round((target - Date.now()) / 1000));
      element.textContent = text(left, element.dataset.daysFormat || "{days} d {clock}");
      if (left === 0) {
        clearInterval(timer);
        window.location.reload(); // the next phase: prices, buying or results
      }
    };
    const timer = setInterval(tick, 1000);
    tick();
  });
})();
