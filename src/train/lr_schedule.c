/* The generator's learning rate per step (docs/training.md "Learning rate
 * and gradient clipping"): constant (the paper, B.2) or a cosine decay over
 * the run to a hundredth of --lr. A function of the step alone, so --resume
 * continues it exactly. */
#include "train.h"

#include <math.h>

float mg_lr_at(float lr, int decay, long step, long total)
{
    if (decay != MG_LR_COSINE || total <= 0) return lr;
    const double f = step >= total ? 1.0 : step <= 0 ? 0.0 : (double)step / (double)total;
    const double lo = 0.01 * lr;
    return (float)(lo + (lr - lo) * 0.5 * (1.0 + cos(M_PI * f)));
}
