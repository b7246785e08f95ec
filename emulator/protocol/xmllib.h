/*
 * libxml2, loaded on first use (emulator/lazylib.h): the restxml protocol is its only user and
 * an idle server, or one speaking only query/JSON protocols, never maps it (nor the libicuuc
 * and libstdc++ it pulls in). Include this instead of <libxml/...> and call xmllib_load()
 * before the first libxml2 call of a request; the calls themselves are written as usual.
 */
#ifndef FB_XMLLIB_H
#define FB_XMLLIB_H

#include "emulator/common.h"
#include "emulator/aws_err.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Every libxml2 function fogbank calls. Types and struct layouts still come from the headers. */
#define XMLLIB_FUNCS(X)                                                                            \
    X(xmlCtxtGetLastError)                                                                         \
    X(xmlCtxtReadMemory)                                                                           \
    X(xmlDocGetRootElement)                                                                        \
    X(xmlFreeDoc)                                                                                  \
    X(xmlFreeParserCtxt)                                                                           \
    X(xmlNewParserCtxt)                                                                            \
    X(xmlStopParser)

/* The resolved functions, each typed from the header's own prototype. */
struct xmllib {
#define XMLLIB_FIELD(f) __typeof__(f) *f; /* libxml2's f */
    XMLLIB_FUNCS(XMLLIB_FIELD)
#undef XMLLIB_FIELD
};
extern struct xmllib xmllib_fn;

/*
 * Loads libxml2 the first time. 0 when usable; -1 with err set to InternalError (the log line
 * names the library and why it could not be loaded), on every call once loading failed.
 */
int xmllib_load(struct aws_err *err);

/* Past this point a libxml2 call goes through the table; before xmllib_load() it crashes. A
   function missing from XMLLIB_FUNCS fails to link, as nothing provides it. The members share
   the functions' names, so code including this header reaches them only by calling. */
#ifndef XMLLIB_IMPL
#define xmlCtxtGetLastError  (*xmllib_fn.xmlCtxtGetLastError)
#define xmlCtxtReadMemory    (*xmllib_fn.xmlCtxtReadMemory)
#define xmlDocGetRootElement (*xmllib_fn.xmlDocGetRootElement)
#define xmlFreeDoc           (*xmllib_fn.xmlFreeDoc)
#define xmlFreeParserCtxt    (*xmllib_fn.xmlFreeParserCtxt)
#define xmlNewParserCtxt     (*xmllib_fn.xmlNewParserCtxt)
#define xmlStopParser        (*xmllib_fn.xmlStopParser)
#endif

#endif
