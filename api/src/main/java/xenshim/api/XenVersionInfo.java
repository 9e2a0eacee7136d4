package xenshim.api;

import java.util.HexFormat;
import java.util.Objects;

/**
 * What {@code xen_version} tells a guest: the emulated Xen's version and
 * build strings. Configuration bound by the platform; {@link #defaults()}
 * looks like a Xen 4.17 build.
 *
 * @param major        returned by {@code XENVER_version} in the high 16 bits
 * @param minor        and the low 16 bits
 * @param extraversion {@code XENVER_extraversion}, e.g. ".0"
 * @param compiler     {@code xen_compile_info.compiler}
 * @param compileBy    {@code xen_compile_info.compile_by}
 * @param compileDomain {@code xen_compile_info.compile_domain}
 * @param compileDate  {@code xen_compile_info.compile_date}
 * @param changeset    {@code XENVER_changeset}
 * @param capabilities {@code XENVER_capabilities}
 * @param commandline  {@code XENVER_commandline}, the hypervisor's command line
 * @param buildId      {@code XENVER_build_id}, the build-id note's bytes
 */
public record XenVersionInfo(int major, int minor, String extraversion, String compiler, String compileBy,
                             String compileDomain, String compileDate, String changeset, String capabilities,
                             String commandline, byte[] buildId) {

    public XenVersionInfo {
        if (major < 0 || major > 0xFFFF || minor < 0 || minor > 0xFFFF) {
            throw new IllegalArgumentException("version must be two 16-bit numbers: " + major + "." + minor);
        }
        Objects.requireNonNull(extraversion);
        Objects.requireNonNull(compiler);
        Objects.requireNonNull(compileBy);
        Objects.requireNonNull(compileDomain);
        Objects.requireNonNull(compileDate);
        Objects.requireNonNull(changeset);
        Objects.requireNonNull(capabilities);
        Objects.requireNonNull(commandline);
        if (buildId.length == 0) {
            throw new IllegalArgumentException("build id must not be empty");
        }
        buildId = buildId.clone();
    }

    /** An emulated Xen 4.17.0 on x86-64 with HVM. */
    public static XenVersionInfo defaults() {
        return new XenVersionInfo(4, 17, ".0-xenshim", "xenshim (Java " + Runtime.version().feature() + ")",
                "xenshim", "xenshim.invalid", "Wed Nov 25 00:00:00 UTC 2026", "xenshim 0.1.0",
                "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ", "",
                HexFormat.of().parseHex("78656e7368696d2d6275696c642d6964"));
    }

    /** {@code (major << 16) | minor}, as {@code XENVER_version} returns it. */
    public long packedVersion() {
        return ((long) major << 16) | minor;
    }

    @Override
    public byte[] buildId() {
        return buildId.clone();
    }

    /** With another version number. */
    public XenVersionInfo withVersion(int newMajor, int newMinor) {
        return new XenVersionInfo(newMajor, newMinor, extraversion, compiler, compileBy, compileDomain, compileDate,
                changeset, capabilities, commandline, buildId);
    }

    /** With another extraversion string. */
    public XenVersionInfo withExtraversion(String text) {
        return new XenVersionInfo(major, minor, text, compiler, compileBy, compileDomain, compileDate,
                changeset, capabilities, commandline, buildId);
    }
}
