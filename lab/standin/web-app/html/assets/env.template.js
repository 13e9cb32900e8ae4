// Runtime settings of the lab stand-in for the Mifos X web app, rendered
// from this template with envsubst when the container starts (like the real
// image's assets/env.template.js).
(function (window) {
  window['env'] = window['env'] || {};
  window['env']['fineractApiUrls'] = '$FINERACT_API_URLS';
  window['env']['fineractApiUrl'] = '$FINERACT_API_URL';
  window['env']['apiProvider'] = '$FINERACT_API_PROVIDER';
  window['env']['apiVersion'] = '$FINERACT_API_VERSION';
  window['env']['fineractPlatformTenantId'] = '$FINERACT_PLATFORM_TENANT_IDENTIFIER';
})(this);
