// Shows /api/info so the whole chain (CloudFront -> load balancer -> task) is visible in a browser.
(async function () {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/info", { headers: { Accept: "application/json" } });
    if (!response.ok) {
      throw new Error(`the service answered ${response.status}`);
    }
    const info = await response.json();
    for (const element of document.querySelectorAll("[data-field]")) {
      element.textContent = info[element.dataset.field] ?? "(not set)";
    }
    status.textContent = "served by the container service";
  } catch (error) {
    status.textContent = `could not reach the service: ${error.message}`;
  }
})();
