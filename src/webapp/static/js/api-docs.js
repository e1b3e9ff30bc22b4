// Starts Swagger UI on /api/docs (a file of its own: the page's CSP allows no inline script).
// "Try it out" requests carry this browser's CSRF token, as every state-changing API call must.
(function () {
  "use strict";

  var CSRF_COOKIES = ["__Host-csrf_token", "csrf_token"];
  var UNSAFE = { POST: true, PUT: true, PATCH: true, DELETE: true };

  function csrfToken() {
    var pairs = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < CSRF_COOKIES.length; i++) {
      for (var j = 0; j < pairs.length; j++) {
        var eq = pairs[j].indexOf("=");
        if (pairs[j].slice(0, eq) === CSRF_COOKIES[i]) {
          return decodeURIComponent(pairs[j].slice(eq + 1));
        }
      }
    }
    return null;
  }

  function start() {
    var root = document.getElementById("api-docs");
    if (!root || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      // No call to the public validator service: nothing leaves this site.
      validatorUrl: null,
      requestInterceptor: function (request) {
        var token = csrfToken();
        if (token && UNSAFE[String(request.method).toUpperCase()]) {
          request.headers["X-CSRF-Token"] = token;
        }
        return request;
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
