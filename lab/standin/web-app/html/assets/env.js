// Runtime settings of the lab stand-in for the Mifos X web app. Replaced at
// start from env.template.js, or mounted over by the installer.
(function (window) {
  window['env'] = window['env'] || {};
})(this);
