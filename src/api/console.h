// The web console (src/console): GET / answers its page, GET /console/<build>/<path> its
// files. Embedded at build time; with a directory, served from there instead, read on each
// request and never cached (for working on the console without rebuilding crmd).
//
// Every answer carries X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer.
// The page carries a Content-Security-Policy that allows only the server's own scripts,
// styles, images and connections (no inline script, no eval, no framing) and is
// revalidated on each load (ETag: the build); the files under their build id are cached
// for good.
#ifndef CRM_API_CONSOLE_H_
#define CRM_API_CONSOLE_H_

#include <string>

#include "api/router.h"

namespace crm::api {

// The Content-Security-Policy of the console's page.
extern const char kConsoleCsp[];

// `dir` empty: the embedded files.
void AddConsoleRoutes(Router& r, const std::string& dir);

}  // namespace crm::api

#endif  // CRM_API_CONSOLE_H_
