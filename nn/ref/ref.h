/* Helpers shared by the reference tier. */
#ifndef VIDI_NN_REF_H
#define VIDI_NN_REF_H

#include "vidi/ops.h"

/* The activation in double: the definition every fast path is held to. */
double vidi_ref_act(double x, vidi_act act);

#endif
