"""Test support shared across the test packages (node-driven yjs peers, reference servers)."""

from .node_peer import (
    NodePeer,
    NodeToolingError,
    PeerCommandError,
    PeerEvent,
    PeerExitedError,
    PeerState,
    ReferenceServer,
    ServerStartError,
    free_tcp_port,
    node_available,
    node_unavailable_reason,
)

__all__ = [
    "NodePeer",
    "NodeToolingError",
    "PeerCommandError",
    "PeerEvent",
    "PeerExitedError",
    "PeerState",
    "ReferenceServer",
    "ServerStartError",
    "free_tcp_port",
    "node_available",
    "node_unavailable_reason",
]
