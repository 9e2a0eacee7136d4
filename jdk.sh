# Sourced, not run: `. ./jdk.sh` sets and exports JAVA_HOME to a JDK 25 or
# newer — $JAVA_HOME if it is one, else the newest under /usr/lib/jvm — and
# fails with a message saying what to install. Used by the README's test
# command, ./xenshim, .ci/run and the benchmarks.

xenshim_java_major() {
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# Prints the home of a JDK (java and javac) whose major version is $1 or newer.
xenshim_find_java() {
    xenshim_min="$1"
    for xenshim_candidate in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
        xenshim_candidate="${xenshim_candidate%/}"
        [ -n "$xenshim_candidate" ] && [ -x "$xenshim_candidate/bin/java" ] \
            && [ -x "$xenshim_candidate/bin/javac" ] || continue
        xenshim_major="$(xenshim_java_major "$xenshim_candidate")"
        if [ -n "$xenshim_major" ] && [ "$xenshim_major" -ge "$xenshim_min" ]; then
            echo "$xenshim_candidate"
            return 0
        fi
    done
    echo "xenshim: needs a JDK $xenshim_min or newer. JAVA_HOME is '${JAVA_HOME:-unset}' and /usr/lib/jvm has none." >&2
    echo "xenshim: install one (for example Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64) or set JAVA_HOME to it." >&2
    return 1
}

if xenshim_jdk="$(xenshim_find_java 25)"; then
    JAVA_HOME="$xenshim_jdk"
    export JAVA_HOME
    unset xenshim_jdk
else
    unset xenshim_jdk
    false
fi
