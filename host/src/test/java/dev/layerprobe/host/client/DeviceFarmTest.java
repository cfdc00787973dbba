package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.simulator.profile.DeviceProfile;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a farm chooses agents, what it does when one is lost or busy, and which farms it refuses. */
class DeviceFarmTest {
    private static final AgentClient.Options SHORT =
            new AgentClient.Options(Duration.ofSeconds(10), Duration.ofSeconds(30));

    @TempDir
    Path tmp;

    /** Two agents nobody listens on: calls here are the test's own and never reach them. */
    private static DeviceFarm twoIdle() throws AgentException {
        return DeviceFarm.connect(List.of(AgentEndpoint.of("127.0.0.1:1"), AgentEndpoint.of("127.0.0.1:2")), SHORT);
    }

    private static AgentException unavailable(AgentClient c) {
        return AgentException.fromStatus(
                Status.UNAVAILABLE.withDescription("connection lost").asRuntimeException(), c.target(), "Run", null);
    }

    @Test
    void aLostAgentsCallRunsAgainOnAnotherAndTheAgentTakesNoMore() throws Exception {
        try (DeviceFarm farm = twoIdle()) {
            List<String> notices = new ArrayList<>();
            farm.onLoss(notices::add);
            List<String> tried = new ArrayList<>();
            DeviceFarm.Ran<String> ran = farm.run(c -> {
                tried.add(c.target());
                if (c.target().equals("127.0.0.1:1")) {
                    throw unavailable(c);
                }
                return "done";
            });
            assertEquals(List.of("127.0.0.1:1", "127.0.0.1:2"), tried);
            assertEquals(new DeviceFarm.Ran<>("done", "127.0.0.1:2"), ran);
            assertEquals(1, notices.size(), notices.toString());
            assertTrue(notices.get(0).startsWith("device 127.0.0.1:1 is lost (cannot reach device"), notices.get(0));
            assertEquals("127.0.0.1:2", farm.run(c -> c.target()).device());
            assertEquals(DeviceFarm.RUNS_PER_DEVICE, farm.capacity());
        }
    }

    @Test
    void aFailureOfTheCallItselfIsNotRunAgain() throws Exception {
        try (DeviceFarm farm = twoIdle()) {
            int[] calls = {0};
            AgentException e = assertThrows(
                    AgentException.class,
                    () -> farm.run(c -> {
                        calls[0]++;
                        throw new AgentException(AgentException.Code.SINK, "the report folder is full", null);
                    }));
            assertEquals("the report folder is full", e.getMessage());
            assertEquals(1, calls[0]);
            assertEquals(2 * DeviceFarm.RUNS_PER_DEVICE, farm.capacity());
        }
    }

    @Test
    void withEveryAgentLostTheCallFailsWithTheLastLoss() throws Exception {
        try (DeviceFarm farm = twoIdle()) {
            AgentException e = assertThrows(
                    AgentException.class,
                    () -> farm.run(c -> {
                        throw unavailable(c);
                    }));
            assertEquals(AgentException.Code.UNAVAILABLE, e.code());
            assertEquals("no device left: cannot reach device at 127.0.0.1:2: connection lost", e.getMessage());
        }
    }

    @Test
    void aBusyAgentGetsOneRunFewerAndTheCallIsAskedAgain() throws Exception {
        try (DeviceFarm farm = twoIdle()) {
            int[] calls = {0};
            DeviceFarm.Ran<Integer> ran = farm.run(c -> {
                if (calls[0]++ == 0) {
                    throw AgentException.fromStatus(
                            Status.RESOURCE_EXHAUSTED
                                    .withDescription("the agent is busy")
                                    .asRuntimeException(),
                            c.target(),
                            "Run",
                            null);
                }
                return calls[0];
            });
            assertEquals(2, ran.result());
            assertEquals(2 * DeviceFarm.RUNS_PER_DEVICE - 1, farm.capacity());
        }
    }

    @Test
    void runsSpreadOverTheAgentsUpToTheirSlots() throws Exception {
        int slots = 2 * DeviceFarm.RUNS_PER_DEVICE;
        ExecutorService pool = Executors.newFixedThreadPool(slots + 1);
        try (DeviceFarm farm = twoIdle()) {
            CountDownLatch started = new CountDownLatch(slots);
            CountDownLatch release = new CountDownLatch(1);
            List<Future<DeviceFarm.Ran<String>>> all = new ArrayList<>();
            for (int i = 0; i < slots; i++) {
                all.add(pool.submit(() -> farm.run(c -> {
                    started.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                    return c.target();
                })));
            }
            assertTrue(started.await(10, TimeUnit.SECONDS));
            CountDownLatch extraStarted = new CountDownLatch(1);
            Future<DeviceFarm.Ran<String>> extra = pool.submit(() -> farm.run(c -> {
                extraStarted.countDown();
                return c.target();
            }));
            // Every slot is taken: the extra call waits for one.
            assertTrue(!extraStarted.await(300, TimeUnit.MILLISECONDS));
            release.countDown();
            int first = 0;
            for (Future<DeviceFarm.Ran<String>> f : all) {
                first += f.get(10, TimeUnit.SECONDS).device().equals("127.0.0.1:1") ? 1 : 0;
            }
            assertEquals(DeviceFarm.RUNS_PER_DEVICE, first, "runs per agent");
            extra.get(10, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void agentsWithAnotherProfileAreNamed() throws Exception {
        Path other = Files.writeString(tmp.resolve("other.yaml"), "name: other-npu\n");
        try (AgentServer a =
                        AgentServer.netty(AgentConfig.builder().port(0).build()).start();
                AgentServer b =
                        AgentServer.netty(AgentConfig.builder().port(0).build()).start();
                AgentServer odd = AgentServer.netty(AgentConfig.builder()
                                .profile(DeviceProfile.load(other))
                                .port(0)
                                .build())
                        .start();
                DeviceFarm farm = DeviceFarm.connect(
                        List.of(
                                AgentEndpoint.of("127.0.0.1:" + odd.port()),
                                AgentEndpoint.of("127.0.0.1:" + a.port()),
                                AgentEndpoint.of("127.0.0.1:" + b.port())),
                        SHORT)) {
            AgentException e = assertThrows(AgentException.class, farm::info);
            assertEquals(AgentException.Code.MISMATCH, e.code());
            assertTrue(
                    e.getMessage()
                            .startsWith("device 127.0.0.1:" + odd.port() + " runs backend 'sim' with profile"
                                    + " 'other-npu', unlike 127.0.0.1:" + a.port() + ", 127.0.0.1:" + b.port()),
                    e.getMessage());
        }
    }

    @Test
    void aFarmOfAgreeingAgentsUploadsToEach() throws Exception {
        try (AgentServer a =
                        AgentServer.netty(AgentConfig.builder().port(0).build()).start();
                AgentServer b =
                        AgentServer.netty(AgentConfig.builder().port(0).build()).start();
                DeviceFarm farm = DeviceFarm.connect(
                        List.of(AgentEndpoint.of("127.0.0.1:" + a.port()), AgentEndpoint.of("127.0.0.1:" + b.port())),
                        SHORT)) {
            assertEquals(a.backend().name(), farm.info().getBackend());
            byte[] model = dev.layerprobe.host.demo.DemoModel.build(1).toByteArray();
            String id = farm.upload(model, "m.onnx");
            assertEquals(dev.layerprobe.core.io.Sha256.hexOf(model), id);
            assertEquals(List.of("127.0.0.1:" + a.port(), "127.0.0.1:" + b.port()), farm.devices());
        }
    }

    @Test
    void theSameAgentTwiceIsRefused() {
        AgentException e = assertThrows(
                AgentException.class,
                () -> DeviceFarm.connect(
                        List.of(AgentEndpoint.of("127.0.0.1:7"), AgentEndpoint.of("127.0.0.1:7")), SHORT));
        assertEquals(AgentException.Code.BAD_ADDRESS, e.code());
        assertEquals("device 127.0.0.1:7 is given twice (127.0.0.1:7)", e.getMessage());
    }

    @Test
    void aDnsNameResolvesThroughGrpcToEveryAddress() throws Exception {
        List<FarmTargets.Resolved> r =
                FarmTargets.resolve(AgentEndpoint.of("dns:///localhost:4321"), SHORT.callDeadline());
        assertTrue(r.stream().anyMatch(x -> x.name().equals("127.0.0.1:4321")), r.toString());
        assertEquals("localhost:4321", r.get(0).authority());
        AgentException e = assertThrows(
                AgentException.class, () -> FarmTargets.resolve(AgentEndpoint.of("nope:///x:1"), SHORT.callDeadline()));
        assertEquals(AgentException.Code.BAD_ADDRESS, e.code());
        assertTrue(e.getMessage().contains("no name resolver for scheme 'nope'"), e.getMessage());
    }
}
