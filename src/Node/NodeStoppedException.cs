using Akka.Actor;

namespace Mesh.Node;

/// <summary>
/// Akka stopped the node's actor system while the node's own parts were still being made: the
/// join starts first, so a seed that refuses this node's TLS certificate (or this node
/// refusing the seed's) can end it then. Says why it stopped rather than what the stop broke.
/// </summary>
public sealed class NodeStoppedException(CoordinatedShutdown.Reason reason, Exception broken)
    : Exception(Describe(reason), broken)
{
    private static string Describe(CoordinatedShutdown.Reason reason) =>
        reason.GetType().Name == "TlsHandshakeFailureReason"
            ? "a TLS handshake with a peer failed while the node was starting (see the 'TLS' lines above: a peer whose certificate this node refuses, or one that refuses this node's)"
            : $"the actor system was shut down while the node was starting ({reason.GetType().Name})";
}
