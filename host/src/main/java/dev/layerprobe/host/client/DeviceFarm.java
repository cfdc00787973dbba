package dev.layerprobe.host.client;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.proto.v1.DeviceInfo;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The devices an analysis spreads its inputs over: one agent, or several that run the same backend,
 * profile and model, each given by its own {@code --device} or found behind one name
 * ({@code dns:///agents:50051}, as a Kubernetes headless Service publishes its pods; gRPC's own name
 * resolution, {@link FarmTargets}).
 *
 * <p>Each agent has its own channel, since an input must run on an agent that holds its model and
 * the report says which agent ran it; the channel runs gRPC's {@code round_robin} policy with
 * client-side health checking against the agent's {@code grpc.health.v1} service
 * ({@link AgentChannels#healthChecked}). {@link #run} gives each call to the usable agent with the
 * fewest runs in progress, at most {@link #RUNS_PER_DEVICE} per agent (fewer after the agent
 * answers RESOURCE_EXHAUSTED); an agent whose channel is in TRANSIENT_FAILURE (unreachable, or not
 * serving by its health status) is passed over while another can take the call. When a call fails
 * because its agent is lost (UNAVAILABLE, a dropped connection) or stalls past the run deadline,
 * that agent takes no more calls in this farm's life and the call runs again on another: the caller
 * makes each attempt from scratch. With every agent lost the call fails with the last failure.
 *
 * <p>{@link #info} and {@link #upload} ask every agent and refuse a farm whose agents differ in
 * backend, profile or model hash, naming the odd one out. Thread-safe. Closing closes the channels
 * the farm opened ({@link #of} wraps a client it does not own).
 */
public final class DeviceFarm implements AutoCloseable {
    /** Runs given to an agent at once: the agent's default {@code --max-runs}. */
    public static final int RUNS_PER_DEVICE = AgentConfig.DEFAULT_MAX_CONCURRENT_RUNS;

    /**
     * One call of a run, made on the agent the farm chose; each attempt starts afresh (what an
     * attempt on a lost agent wrote or gathered is the attempt's to discard).
     */
    @FunctionalInterface
    public interface Call<T> {
        T call(AgentClient client) throws AgentException, IOException;
    }

    /** What a call returned, and the agent (its address) that answered it. */
    public record Ran<T>(T result, String device) {}

    private static final class Agent {
        final String name;
        final AgentClient client;
        /** The channel whose state tells the agent's health; null for a client the farm does not own. */
        final ManagedChannel channel;

        int slots = RUNS_PER_DEVICE;
        int busy;
        /** Why the agent is out of the farm, or null while it is in. */
        AgentException lost;

        Agent(String name, AgentClient client, ManagedChannel channel) {
            this.name = name;
            this.client = client;
            this.channel = channel;
        }

        boolean reachable() {
            return channel == null || channel.getState(false) != ConnectivityState.TRANSIENT_FAILURE;
        }
    }

    private final List<Agent> agents;
    private final boolean owned;
    private volatile Consumer<String> onLoss = m -> {};

    private DeviceFarm(List<Agent> agents, boolean owned) {
        this.agents = List.copyOf(agents);
        this.owned = owned;
    }

    /**
     * A farm over one client that stays the caller's (the emulated device, or a single agent
     * connected elsewhere).
     */
    public static DeviceFarm of(AgentClient client) {
        return new DeviceFarm(List.of(new Agent(client.target(), client, null)), false);
    }

    /**
     * Connects (lazily) to every agent the targets name: {@code HOST:PORT}, or a name with a scheme
     * that gRPC resolves to several addresses ({@code dns:///agents.ns.svc:50051}).
     *
     * @throws AgentException BAD_ADDRESS when a target does not parse, resolves to nothing, or two
     *     targets name the same agent; UNAVAILABLE when a name cannot be resolved; BAD_CREDENTIALS
     *     when a token or CA file cannot be used
     */
    public static DeviceFarm connect(List<AgentEndpoint> targets, AgentClient.Options options) throws AgentException {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("a farm needs at least one device");
        }
        Map<String, Agent> byName = new LinkedHashMap<>();
        try {
            for (AgentEndpoint t : targets) {
                for (FarmTargets.Resolved r : FarmTargets.resolve(t, options.callDeadline())) {
                    if (byName.containsKey(r.name())) {
                        throw new AgentException(
                                AgentException.Code.BAD_ADDRESS,
                                "device " + r.name() + " is given twice (" + t.address() + ")",
                                null);
                    }
                    ManagedChannel ch = AgentChannels.healthChecked(t, r.address(), r.authority());
                    byName.put(r.name(), new Agent(r.name(), new AgentClient(ch, r.name(), options), ch));
                }
            }
        } catch (AgentException | RuntimeException e) {
            byName.values().forEach(a -> a.client.close());
            throw e;
        }
        return new DeviceFarm(new ArrayList<>(byName.values()), true);
    }

    /** Tells {@code listener} a one-line notice each time an agent is lost and its call runs again elsewhere. */
    public void onLoss(Consumer<String> listener) {
        this.onLoss = listener;
    }

    /** The agents' addresses, in the order given (a resolved name's in address order). */
    public List<String> devices() {
        return agents.stream().map(a -> a.name).toList();
    }

    /** Runs the farm takes at once now: the run slots of the agents still in it. */
    public synchronized int capacity() {
        int n = 0;
        for (Agent a : agents) {
            n += a.lost == null ? a.slots : 0;
        }
        return Math.max(n, 1);
    }

    /** A client of an agent still in the farm, for single calls (isolating a layer on the device). */
    public synchronized AgentClient anyClient() {
        return agents.stream().filter(a -> a.lost == null).findFirst().orElse(agents.get(0)).client;
    }

    /**
     * Every agent's description, checked to agree in backend and profile.
     *
     * @return the first agent's
     * @throws AgentException MISMATCH naming the agent that differs from the others; or the failure
     *     of an agent that cannot answer
     */
    public DeviceInfo info() throws AgentException {
        List<DeviceInfo> infos = new ArrayList<>();
        for (Agent a : agents) {
            infos.add(a.client.info());
        }
        agree(infos, i -> "backend '" + i.getBackend() + "' with profile '" + i.getProfile() + "'");
        return infos.get(0);
    }

    /**
     * Uploads a model to every agent and checks that each reports the same model id (its sha256).
     *
     * @return the model id
     * @throws AgentException MISMATCH naming the agent whose model id differs; or an agent's upload failure
     */
    public String upload(byte[] model, String name) throws AgentException {
        List<String> ids = new ArrayList<>();
        for (Agent a : agents) {
            ids.add(a.client.upload(model, name));
        }
        agree(ids, id -> "model " + id);
        return ids.get(0);
    }

    /** Fails naming the agent whose value is not the one most agents have (the first agent's on a tie). */
    private <V> void agree(List<V> values, Function<V, String> describe) throws AgentException {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            groups.computeIfAbsent(describe.apply(values.get(i)), k -> new ArrayList<>())
                    .add(agents.get(i).name);
        }
        if (groups.size() == 1) {
            return;
        }
        String common = groups.keySet().iterator().next();
        for (Map.Entry<String, List<String>> g : groups.entrySet()) {
            if (g.getValue().size() > groups.get(common).size()) {
                common = g.getKey();
            }
        }
        for (int i = 0; i < values.size(); i++) {
            String d = describe.apply(values.get(i));
            if (!d.equals(common)) {
                throw new AgentException(
                        AgentException.Code.MISMATCH,
                        "device " + agents.get(i).name + " runs " + d + ", unlike "
                                + String.join(", ", groups.get(common))
                                + " (" + common + "): every device of an analysis must run the same backend,"
                                + " profile and model",
                        null);
            }
        }
    }

    /**
     * Makes a call on the usable agent with the fewest runs in progress, waiting for a free run slot;
     * again on another agent when that one is lost or stalls.
     *
     * @throws AgentException the call's own failure when it is not the agent's loss (or the farm has
     *     a single agent), or the last agent's loss when no agent is left
     * @throws IOException the call's own
     */
    public <T> Ran<T> run(Call<T> call) throws AgentException, IOException {
        while (true) {
            Agent a = acquire();
            boolean lost = false;
            try {
                return new Ran<>(call.call(a.client), a.name);
            } catch (AgentException e) {
                if (busy(e)) {
                    lessSlots(a);
                    pause();
                    continue;
                }
                if (!lostAgent(e) || agents.size() == 1) {
                    throw e;
                }
                lost = true;
                if (lose(a, e)) {
                    onLoss.accept("device " + a.name + " is lost (" + e.getMessage() + "); its runs go to the "
                            + "other devices");
                }
            } finally {
                if (!lost) {
                    release(a);
                }
            }
        }
    }

    private synchronized Agent acquire() throws AgentException {
        while (true) {
            if (agents.stream().allMatch(a -> a.lost != null)) {
                AgentException last = agents.get(agents.size() - 1).lost;
                throw new AgentException(last.code(), "no device left: " + last.getMessage(), last);
            }
            // A reachable agent first; if every free one looks unreachable, try one: the call's failure tells.
            Agent a = pick(true);
            if (a == null) {
                a = pick(false);
            }
            if (a != null) {
                a.busy++;
                return a;
            }
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AgentException(AgentException.Code.CANCELLED, "interrupted waiting for a free device", e);
            }
        }
    }

    /** The agent in the farm with a free slot (and reachable, if asked) and the fewest runs in progress, or null. */
    private Agent pick(boolean reachable) {
        Agent best = null;
        for (Agent a : agents) {
            if (a.lost == null && a.busy < a.slots && (!reachable || a.reachable())) {
                if (best == null || a.busy < best.busy) {
                    best = a;
                }
            }
        }
        return best;
    }

    private synchronized void release(Agent a) {
        a.busy--;
        notifyAll();
    }

    /** Takes the agent out of the farm; true the first time. */
    private synchronized boolean lose(Agent a, AgentException why) {
        a.busy--;
        notifyAll();
        if (a.lost == null) {
            a.lost = why;
            return true;
        }
        return false;
    }

    /** The agent said it runs as many as it may: give it one run fewer at once (never less than one). */
    private synchronized void lessSlots(Agent a) {
        a.slots = Math.max(1, a.slots - 1);
    }

    /** A moment for a busy agent's runs to finish before asking again. */
    private static void pause() throws AgentException {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.Code.CANCELLED, "interrupted waiting for a busy device", e);
        }
    }

    private static boolean busy(AgentException e) {
        return e.code() == AgentException.Code.REMOTE && e.status() == Status.Code.RESOURCE_EXHAUSTED;
    }

    /**
     * Whether a failure means the agent is lost rather than the input or the host at fault: it cannot
     * be reached, dropped the connection, stalled past the deadline, or was shut down under the call.
     */
    static boolean lostAgent(AgentException e) {
        return switch (e.code()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED -> true;
            case CANCELLED -> !Thread.currentThread().isInterrupted();
            default -> false;
        };
    }

    @Override
    public void close() {
        if (owned) {
            agents.forEach(a -> a.client.close());
        }
    }
}
