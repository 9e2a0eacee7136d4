package xenshim.x86.vm;

import xenshim.api.xen.XenSched;

/**
 * How a guest run ended, and the exit status {@code xenshim run} gives for it.
 *
 * <table>
 * <caption>exit statuses</caption>
 * <tr><td>0</td><td>the guest shut down with SHUTDOWN_poweroff</td></tr>
 * <tr><td>11..15</td><td>it shut down with reboot (11), suspend (12), crash (13), watchdog (14), soft_reset (15)</td></tr>
 * <tr><td>19</td><td>it shut down with a reason Xen does not define</td></tr>
 * <tr><td>20</td><td>triple fault</td></tr>
 * <tr><td>21</td><td>KVM could not run it (emulation failure, failed entry, unexpected exit)</td></tr>
 * <tr><td>22</td><td>it ran past --timeout</td></tr>
 * <tr><td>23</td><td>every vCPU halted with interrupts off</td></tr>
 * <tr><td>24</td><td>a hypercall handler failed with a JVM error; xenshim stopped the domain</td></tr>
 * <tr><td>130</td><td>interrupted (Ctrl-C)</td></tr>
 * </table>
 */
public sealed interface Outcome {

    int exitStatus();

    /** One line for the user. */
    String describe();

    /** The guest shut down (SCHEDOP_shutdown), with Xen's shutdown code. */
    record Shutdown(int code) implements Outcome {
        @Override
        public int exitStatus() {
            if (code == XenSched.SHUTDOWN_poweroff) {
                return 0;
            }
            return code > 0 && code <= XenSched.SHUTDOWN_MAX ? 10 + code : 19;
        }

        @Override
        public String describe() {
            return "guest shut down: " + XenSched.reasonName(code);
        }
    }

    /** KVM_EXIT_SHUTDOWN: the guest triple-faulted. */
    record TripleFault(int vcpu, String registers) implements Outcome {
        @Override
        public int exitStatus() {
            return 20;
        }

        @Override
        public String describe() {
            return "guest triple-faulted on vCPU " + vcpu + "\n" + registers;
        }
    }

    /** KVM could not go on: an emulation failure, a failed VM entry, an exit xenshim does not handle. */
    record Failure(int vcpu, String what, String registers) implements Outcome {
        @Override
        public int exitStatus() {
            return 21;
        }

        @Override
        public String describe() {
            return "vCPU " + vcpu + " stopped: " + what + "\n" + registers;
        }
    }

    /** The guest was still running at the deadline. */
    record Timeout(long millis, String registers) implements Outcome {
        @Override
        public int exitStatus() {
            return 22;
        }

        @Override
        public String describe() {
            return "guest still running after --timeout " + millis + " ms; stopped\n" + registers;
        }
    }

    /** Every vCPU executed hlt with interrupts disabled: nothing can wake it. */
    record Halted(int vcpu, String registers) implements Outcome {
        @Override
        public int exitStatus() {
            return 23;
        }

        @Override
        public String describe() {
            return "vCPU " + vcpu + " halted with interrupts disabled; nothing can wake it\n" + registers;
        }
    }

    /**
     * A handler threw a JVM {@link Error} (out of memory, stack overflow, a
     * linkage error from a broken plugin, an assertion): not the guest's fault,
     * so no errno is made up for it. xenshim stops this domain, as Xen crashes
     * a domain it can no longer serve; the JVM and other domains go on.
     */
    record HandlerCrash(int vcpu, long nr, Throwable error) implements Outcome {
        @Override
        public int exitStatus() {
            return 24;
        }

        @Override
        public String describe() {
            return "vCPU " + vcpu + " stopped: the handler of hypercall " + nr + " ("
                    + xenshim.api.xen.Hypercalls.name(nr) + ") failed with " + error
                    + "; xenshim stopped the domain (the log names the handler's module)";
        }
    }

    /**
     * A handler has not returned for longer than the machine's call limit: it loops, or waits for
     * something that does not come, without ever asking {@code preemptCheck}. xenshim stops the domain
     * as a watchdog would; the vCPU's thread cannot be taken back from the handler, so it, the vCPU and
     * the guest's memory stay until the process ends, and the JVM and the other domains go on.
     *
     * @param provider who serves the slot in the installed table (the call may have started in an
     *                 earlier one, if a shim was swapped since)
     */
    record HandlerStuck(int vcpu, long nr, String provider, long millis) implements Outcome {
        @Override
        public int exitStatus() {
            return 25;
        }

        @Override
        public String describe() {
            return "vCPU " + vcpu + " stopped: hypercall " + nr + " (" + xenshim.api.xen.Hypercalls.name(nr)
                    + ") has been in its handler (" + provider + ") for " + millis + " ms without returning or "
                    + "preempting itself; xenshim stopped the domain (the vCPU thread stays with the handler "
                    + "until the process ends)";
        }
    }

    /** The user stopped the run. */
    record Interrupted() implements Outcome {
        @Override
        public int exitStatus() {
            return 130;
        }

        @Override
        public String describe() {
            return "interrupted";
        }
    }
}
