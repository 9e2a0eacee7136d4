# Sourced by ./xenshim and .ci/run: find_java MIN prints the home of a JDK
# whose major version is MIN or newer: $JAVA_HOME if it is one, else the
# newest under /usr/lib/jvm. Fails with a message saying what to install.

java_major() {
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

find_java() {
    local min="$1" candidate major
    # a JDK, not a JRE: the build needs javac ($JAVA_HOME as much as the candidates)
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" && -x "$JAVA_HOME/bin/javac" ]]; then
        major="$(java_major "$JAVA_HOME")"
        if [[ -n "$major" && "$major" -ge "$min" ]]; then
            echo "$JAVA_HOME"
            return 0
        fi
    fi
    for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
        candidate="${candidate%/}"
        [[ -x "$candidate/bin/java" && -x "$candidate/bin/javac" ]] || continue
        major="$(java_major "$candidate")"
        if [[ -n "$major" && "$major" -ge "$min" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "xenshim: needs a JDK $min or newer. JAVA_HOME is '${JAVA_HOME:-unset}' and /usr/lib/jvm has none." >&2
    echo "xenshim: install one (for example Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64) or set JAVA_HOME to it." >&2
    return 1
}
