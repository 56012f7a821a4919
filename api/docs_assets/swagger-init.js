// Starts Swagger UI on the page's OpenAPI document; a file, not an inline script, so the page's
// Content-Security-Policy can forbid inline scripts.
"use strict";
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    displayOperationId: true,
    showExtensions: true,
    // The default validator badge asks an outside host to check the document: never from a pharmacy LAN.
    validatorUrl: null,
  });
});
