# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): messages, timing and the barge build.
# The sourcing script's header comment is its help text.

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}
note() { printf 'bench: %s\n' "$*" >&2; }

# Wall-clock stamps and the seconds between two of them.
now() { printf '%s' "${EPOCHREALTIME}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Sets barge_bin: the path given with --barge, or a fresh release build.
build_barge() {
    if [[ -z ${barge_bin} ]]; then
        [[ -d crates/barge ]] || die "crates/barge not found; use \`--skip-barge\` or \`--barge PATH\`"
        note "building barge (cargo build --release -p barge)"
        cargo build --release -p barge ||
            die "barge does not build; use \`--skip-barge\` to measure the others"
        barge_bin="${CARGO_TARGET_DIR:-target}/release/barge"
    fi
    [[ -x ${barge_bin} ]] || die "no barge binary at \`${barge_bin}\`"
}

# One timed barge command: `time_barge TOOL RUN ARG...` runs `${barge_bin} ARG...` with its
# output in ${LOGS}/TOOL-runRUN.log, and sets WALL (seconds), RSS_KB (peak resident set) and
# LOG for the run.
# shellcheck disable=SC2034 # WALL and RSS_KB are read by the sourcing script
time_barge() {
    local tool="$1" run="$2" t0 t1
    shift 2
    LOG="${LOGS}/${tool}-run${run}.log"
    t0="$(now)"
    /usr/bin/time -f '%e %M' -o "${LOGS}/${tool}.time" "${barge_bin}" "$@" >"${LOG}" 2>&1 || return 1
    t1="$(now)"
    WALL="$(elapsed "${t0}" "${t1}")"
    RSS_KB="$(awk '{ print $2 }' "${LOGS}/${tool}.time")"
}

# pgloader can exit 0 after logging errors (rejected rows, a failed index or foreign key):
# fail unless its log ($1) has none and its summary's ($2) total line counts none ("✓" or 0).
pgloader_clean() {
    local log="$1" summary="$2" errors
    if grep -Eq '(ERROR|FATAL|KABOOM)' "${log}"; then
        note "pgloader logged errors:"
        grep -E '(ERROR|FATAL|KABOOM)' "${log}" | head -n 20 >&2
        return 1
    fi
    errors="$(awk '/Total import time/ { print $4 }' "${summary}")" || return 1
    if [[ ${errors} != "✓" && ${errors} != 0 ]]; then
        note "pgloader reports ${errors} errors (see ${summary})"
        return 1
    fi
}
