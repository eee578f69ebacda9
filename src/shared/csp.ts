// The Content-Security-Policy of every workbench page, in the desktop window
// (set by Electron main) and in browser mode (set by `deepen serve`): our own
// scripts only, no remote content, no plugins, no framing. Styles may be
// inline because Vue binds style attributes. Kept here, free of node imports,
// so that Electron main can use it without bundling the HTTP server;
// tests/unit/main/csp.test.ts checks the server sends the same policy.
export const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
