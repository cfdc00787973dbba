package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

class AgentChannelsTest {
    @Test
    void addressesParseWithIpv6HostsInBrackets() throws AgentException {
        assertEquals(new AgentChannels.HostPort("::1", 50051), AgentChannels.HostPort.parse("[::1]:50051"));
        assertEquals(new AgentChannels.HostPort("board.local", 1), AgentChannels.HostPort.parse("board.local:1"));
        for (String bad : new String[] {":50051", "host:", "host:0", "host:65536", "host:x", "[]:1"}) {
            AgentException e = assertThrows(AgentException.class, () -> AgentChannels.HostPort.parse(bad), bad);
            assertEquals(AgentException.Code.BAD_ADDRESS, e.code());
        }
    }

    /** Process-wide settings are main's to make: a client or an agent in a library call leaves them alone. */
    @Test
    void clientsAndAgentsLeaveNettysProcessSettingsAlone() throws Exception {
        ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder()
                                .bindHost("127.0.0.1")
                                .port(0)
                                .build())
                        .start();
                AgentClient plain = new AgentClient("127.0.0.1", agent.port());
                AgentClient connected = AgentClient.connect("127.0.0.1:" + agent.port())) {
            assertEquals(plain.info().getDevice(), connected.info().getDevice());
            assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        } finally {
            ResourceLeakDetector.setLevel(before);
        }
    }
}
