#!/bin/sh
# run.sh - compile the C test programs in this directory for wasm32-wasi at
# -O0 and -O2 (with -g), run every case of cases.txt with `switchyard run`,
# and compare stdout, the exit status and, where a case asks, stderr.
#
# usage: tests/programs/run.sh SWITCHYARD [CASE-OR-PROGRAM...]
#        tests/programs/run.sh --native [--update] [CASE-OR-PROGRAM...]
#
# SWITCHYARD is the path of the switchyard binary.  With names after it,
# only the cases with those case or program names run.
#
# --native builds the programs with the host's gcc instead and runs them
# directly: a check that the cases and the expected files agree.  With
# --update it also rewrites the expected stdout files from the native -O2
# run (check them by hand before committing).
#
# Prints `ok CASE -O2` or `FAIL CASE -O0: what differed` per case and
# optimization level, then `N passed, N failed`; exits 1 on any failure.
# If clang or the wasm32-wasi sysroot is missing it says why and exits 77
# (skip), or 1 when the environment variable CI is set.
#
# Environment: WASI_CC (default clang), NATIVE_CC (default gcc),
# WASI_CFLAGS / NATIVE_CFLAGS (extra flags), SWITCHYARD_TEST_TIMEOUT
# (seconds per run, default 120; used when `timeout` is installed).

set -u

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
build=$here/build

usage() {
    sed -n '6,11p' "$here/run.sh" | sed 's/^# \{0,1\}//'
}

mode=wasm
update=0
sw=
case ${1:-} in
"")
    usage >&2
    exit 2
    ;;
-h | --help)
    usage
    exit 0
    ;;
--native)
    mode=native
    shift
    if [ "${1:-}" = --update ]; then
        update=1
        shift
    fi
    ;;
-*)
    echo "run.sh: unknown option $1" >&2
    usage >&2
    exit 2
    ;;
*)
    sw=$1
    shift
    case $sw in
    /*) ;;
    */*) sw=$(pwd)/$sw ;;
    *) sw=$(command -v "$sw") || sw=$1 ;;
    esac
    if [ ! -f "$sw" ] || [ ! -x "$sw" ]; then
        echo "run.sh: switchyard binary '$sw' is not an executable file" >&2
        exit 2
    fi
    ;;
esac

# Called when the toolchain is missing: a skip, or a failure under CI.
unavailable() {
    echo "run.sh: $1"
    if [ -n "${2:-}" ] && [ -s "$2" ]; then
        sed -n '1,8s/^/    /p' "$2"
    fi
    if [ -n "${CI:-}" ]; then
        echo "run.sh: CI is set, so a missing toolchain is a failure"
        exit 1
    fi
    echo "run.sh: skipping the C program tests (exit 77)"
    exit 77
}

if [ "$mode" = wasm ]; then
    cc=${WASI_CC:-clang}
    cflags="--target=wasm32-wasi -g ${WASI_CFLAGS:-}"
    suffix=.wasm
    hint="install clang, lld, wasi-libc and libclang-rt-dev-wasm32"
else
    build=$build/native
    cc=${NATIVE_CC:-gcc}
    cflags="-g ${NATIVE_CFLAGS:-}"
    suffix=
    hint="install gcc"
fi
mkdir -p "$build" || exit 1
command -v "$cc" >/dev/null 2>&1 ||
    unavailable "C compiler '$cc' not found ($hint)"
# shellcheck disable=SC2086,SC2015 # cflags holds several flags; || is meant
printf '#include <stdio.h>\n#include <math.h>\nint main(void) { printf("%%g\\n", sqrt(2.0)); return 0; }\n' >"$build/probe.c" &&
    "$cc" $cflags -O2 "$build/probe.c" -o "$build/probe$suffix" -lm >"$build/probe.log" 2>&1 ||
    unavailable "'$cc $cflags' cannot build a C program (missing sysroot or runtime library? $hint):" "$build/probe.log"

# ---------------------------------------------------------------------------
# Compile every program at -O0 and -O2.  A failure is reported per case.
# Programs in a subdirectory (DIR/PROG.c) are built as build/DIR/PROG-O2...;
# a line `// run.sh wasm flags: FLAGS` (or `native flags:`) in a program's
# source adds FLAGS to its command line in that mode.

if [ "$mode" = native ]; then
    echo "run.sh: native mode: programs built with $cc, run directly"
fi
for src in "$here"/*.c "$here"/*/*.c; do
    [ -f "$src" ] || continue
    case $src in "$here"/build/*) continue ;; esac
    prog=${src#"$here"/}
    prog=${prog%.c}
    extra=$(sed -n "s|^// run\.sh $mode flags:||p" "$src")
    mkdir -p "$(dirname "$build/$prog")" || exit 1
    for opt in O0 O2; do
        # shellcheck disable=SC2086
        if ! "$cc" $cflags "-$opt" "$src" -o "$build/$prog-$opt$suffix" -lm $extra \
            >"$build/$prog-$opt.log" 2>&1; then
            rm -f "$build/$prog-$opt$suffix"
        fi
    done
done

# ---------------------------------------------------------------------------
# Run the cases.

timeout_cmd=
if command -v timeout >/dev/null 2>&1; then
    timeout_cmd="timeout ${SWITCHYARD_TEST_TIMEOUT:-120}"
fi

trim() {
    t=$1
    t=${t#"${t%%[![:space:]]*}"}
    t=${t%"${t##*[![:space:]]}"}
    printf '%s' "$t"
}

selected() {
    [ $# -le 2 ] && return 0
    c_name=$1
    c_prog=$2
    shift 2
    for want in "$@"; do
        [ "$want" = "$c_name" ] || [ "$want" = "$c_prog" ] && return 0
    done
    return 1
}

# Adds one finding to the current run's list of problems.
add() { problems="${problems:+$problems; }$1"; }

pass=0
fail=0
ran=0
lineno=0
if [ "$update" = 1 ]; then opts="O2 O0"; else opts="O0 O2"; fi

while IFS= read -r line <&3 || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case $(trim "$line") in '' | '#'*) continue ;; esac
    IFS='|' read -r f_name f_prog f_args f_stdin f_status f_stdout f_stderr f_env f_preload <<EOF
$line
EOF
    name=$(trim "$f_name")
    prog=$(trim "$f_prog")
    args=$(trim "$f_args")
    stdin=$(trim "$f_stdin")
    status=$(trim "$f_status")
    expected=$(trim "$f_stdout")
    want_err=$(trim "${f_stderr:-}")
    envs=$(trim "${f_env:-}")
    # NAME=FILE words: `--preload NAME=FILE` (FILE relative to this
    # directory) for `switchyard run`; not used by --native
    preload=$(trim "${f_preload:-}")
    selected "$name" "$prog" "$@" || continue

    bad=
    [ -n "$name" ] || bad="no case name"
    [ -f "$here/$prog.c" ] || bad="no program $prog.c"
    case $status in
    '!0') ;;
    '' | *[!0-9]*) bad="bad status '$status'" ;;
    esac
    [ -n "$expected" ] || bad="no expected stdout file"
    for p in $preload; do
        case $p in
        ?*=?*) [ -f "$here/${p#*=}" ] || bad="no preload file ${p#*=}" ;;
        *) bad="bad preload '$p' (NAME=FILE expected)" ;;
        esac
    done
    if [ "$stdin" = - ]; then
        stdin_file=/dev/null
    else
        stdin_file=$here/$stdin
        [ -f "$stdin_file" ] || bad="no stdin file $stdin"
    fi
    if [ -n "$bad" ]; then
        echo "FAIL cases.txt line $lineno: $bad"
        fail=$((fail + 1))
        continue
    fi
    exp_file=$here/$expected

    for opt in $opts; do
        ran=$((ran + 1))
        label="$name -$opt"
        bin=$build/$prog-$opt$suffix
        if [ ! -f "$bin" ]; then
            echo "FAIL $label: $prog.c did not compile (${build#"$here"/}/$prog-$opt.log):"
            sed -n '1,10s/^/    /p' "$build/$prog-$opt.log"
            fail=$((fail + 1))
            continue
        fi
        out=$build/$name-$opt.stdout
        err=$build/$name-$opt.stderr
        # The outer subshell keeps the shell from reporting a native program
        # killed by a signal ("Illegal instruction") on run.sh's stderr.
        # shellcheck disable=SC2086 # timeout_cmd is a command and its argument
        ( (
            for v in $(env | sed -n 's/^\(SWY_[A-Za-z0-9_]*\)=.*/\1/p'); do
                unset "$v"
            done
            if [ -n "$envs" ] && ! eval "export $envs"; then
                echo "run.sh: bad env field in cases.txt line $lineno" >&2
                exit 126
            fi
            if ! eval "set -- $args"; then
                echo "run.sh: bad args field in cases.txt line $lineno" >&2
                exit 126
            fi
            # no core files from a crash or from the native trap cases
            # shellcheck disable=SC3045 # dash and bash have ulimit -c
            ulimit -c 0 2>/dev/null
            if [ "$mode" = wasm ]; then
                # Like Wasmtime, switchyard passes no host environment unless
                # asked: `--env NAME` forwards the host's value of NAME.
                env_flags=
                for v in $(env | sed -n 's/^\(SWY_[A-Za-z0-9_]*\)=.*/\1/p'); do
                    env_flags="$env_flags --env $v"
                done
                pre_flags=
                if [ -n "$preload" ]; then
                    # preload files are relative to this directory
                    cd "$here" || exit 126
                    for p in $preload; do
                        pre_flags="$pre_flags --preload $p"
                    done
                fi
                # shellcheck disable=SC2086 # env_flags, pre_flags are lists of words
                exec $timeout_cmd "$sw" run $env_flags $pre_flags "$bin" "$@"
            else
                exec $timeout_cmd "$bin" "$@"
            fi
        ) <"$stdin_file" >"$out" 2>"$err"
        exit $?
        ) 2>/dev/null
        code=$?

        problems=
        if [ -n "$timeout_cmd" ] && [ "$code" -eq 124 ]; then
            add "timed out after ${SWITCHYARD_TEST_TIMEOUT:-120} s"
        elif [ "$status" = '!0' ]; then
            [ "$code" -ne 0 ] || add "exit status 0, expected non-zero"
        elif [ "$code" -ne "$status" ]; then
            add "exit status $code, expected $status"
        fi
        if [ "$update" = 1 ] && [ "$opt" = O2 ]; then
            mkdir -p "$(dirname "$exp_file")" && cp "$out" "$exp_file"
        fi
        if [ ! -f "$exp_file" ]; then
            add "missing expected file $expected"
        elif ! cmp -s "$exp_file" "$out"; then
            how=$(cmp "$exp_file" "$out" 2>&1 | sed -n 1p)
            case $how in
            *differ:*) how="first difference at ${how##*differ: }" ;;
            *"EOF on $out"*) how="output is shorter than expected" ;;
            *"EOF on $exp_file"*) how="output is longer than expected" ;;
            esac
            add "stdout differs from $expected ($how; got ${out#"$here"/})"
        fi
        if [ -n "$want_err" ]; then
            case $mode:$want_err in
            native:*'wasm trap'*) ;; # only the engine reports traps so
            *)
                grep -F -q -e "$want_err" "$err" ||
                    add "stderr does not contain '$want_err'"
                ;;
            esac
        fi

        if [ -z "$problems" ]; then
            echo "ok $label"
            pass=$((pass + 1))
        else
            echo "FAIL $label: $problems"
            if [ -s "$err" ]; then
                sed -n '1,6s/^/    stderr: /p' "$err"
            fi
            fail=$((fail + 1))
        fi
    done
done 3<"$here/cases.txt"

if [ "$ran" -eq 0 ] && [ "$fail" -eq 0 ]; then
    echo "run.sh: no case matches: $*"
    echo "0 passed, 0 failed"
    exit 1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
