#!/usr/bin/env bash
# The realistic simulated data set of the shipped models (docs/data.md
# "Looking like scanner data", models/README.md): the real brain volumes
# split by subject. Usage: scripts/realistic-data.sh MRGAN VOLDIR OUTDIR [simulate options]
#   MRGAN   the mrgan binary (build/mrgan)
#   VOLDIR  the volumes (file names as in VOLDIR/README.md)
# Test subjects: Ljubljana patient 12 (T1, T2, FLAIR of one 2D study),
# cross-sectional patient 26 (T2) and ARC M2208 (T2); validation: patients 03
# and 19 (FLAIR); every other volume trains. Colin27 is left out: it is the
# default data set, on whose test split `make demo` evaluates these models.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 MRGAN VOLDIR OUTDIR [simulate options]" >&2; exit 2; }
M=$1 V=$2 O=$3; shift 3
T=(); for f in lju_long_p01_s1_T1W lju_long_p01_s1_T2W lju_long_p01_s1_FLAIR lju_long_p20_s2_T1W \
    lju_xs_p07_T1_mni_brain lju_xs_p07_T1POST_mni_brain cit168_t1w_brain_template mni152_t1_2mm_template \
    t1gd_skullstripped_lindner arc_M2265_T2w_head; do T+=(--train "$V/$f.nii.gz"); done
exec "$M" simulate "${T[@]}" \
    --val "$V/lju_long_p03_s1_FLAIR.nii.gz" --val "$V/lju_xs_p19_FLAIR_mni_brain.nii.gz" \
    --test "$V/lju_long_p12_s1_T1W.nii.gz" --test "$V/lju_long_p12_s1_T2W.nii.gz" \
    --test "$V/lju_long_p12_s1_FLAIR.nii.gz" --test "$V/lju_xs_p26_T2_mni_brain.nii.gz" \
    --test "$V/t2w_m2208.nii.gz" "$@" "$O"
