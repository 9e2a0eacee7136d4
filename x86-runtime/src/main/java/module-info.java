/**
 * The x86 runtime: KVM through the FFM API, guest loading, the vCPU loop,
 * and the {@code xenshim} command line.
 */
module xenshim.x86 {
    requires xenshim.dispatcher;
    requires xenshim.xenstore;
    requires info.picocli;
    requires org.slf4j;
    requires ch.qos.logback.classic;
    requires jdk.management;
    requires jdk.jfr;
    requires jdk.net;
    requires jdk.security.auth;

    exports xenshim.x86;

    opens xenshim.x86.cli to info.picocli;
}
