// The order's page while its payment is awaited: ask the API for the order's status, a little
// less often each time, and reload the page once it has changed (paid, failed ...). Stops when
// the stock hold runs out; without script the page offers a "Check again" link instead.
(function () {
  "use strict";
  var banner = document.querySelector("[data-order-poll]");
  if (!banner) {
    return;
  }
  var url = banner.getAttribute("data-order-poll");
  var until = Date.parse(banner.getAttribute("data-poll-until") || "") || Date.now() + 15 * 60000;
  var delay = 1000;

  function later() {
    delay = Math.min(delay * 1.5, 10000);
    if (Date.now() + delay < until) {
      window.setTimeout(check, delay);
    }
  }

  function check() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && body.order && body.order.status !== "awaiting_payment") {
          window.location.reload();
        } else {
          later();
        }
      })
      .catch(later);
  }

  window.setTimeout(check, delay);
})();
