// libInsightPreload.so exports the C library's own clock, sleep, wait and name functions under
// their usual names (see insight_preload.c); it has no API of its own.
#ifndef INSIGHT_PRELOAD_H
#define INSIGHT_PRELOAD_H
#endif
