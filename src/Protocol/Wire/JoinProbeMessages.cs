namespace Mesh.Protocol.Wire;

/// <summary>
/// A node that has not joined asks each node it would join through whether that one is a
/// member: the answer tells "no member left to join" from "unreachable" (Akka's own join
/// handshake says neither), for <c>mesh status</c> and for deciding who forms the mesh again.
/// <paramref name="Incarnation"/> is the asking process's cluster uid: a member that still
/// stands at the asker's address under another uid is a process that is gone (one port, one
/// process), which the answering node then removes at once (0: not said).
/// <paramref name="Unheard"/> is how many probe rounds in a row the asker has had no answer
/// from the node it asks: one that answers every probe it gets learns that its answers are
/// lost on the way back, and resets its connection to the asker.
/// </summary>
public sealed record JoinProbe(string From, int Incarnation = 0, int Unheard = 0);

/// <summary>
/// The answer to a <see cref="JoinProbe"/>: the answering node's name and its own member status
/// as it sees it (<c>up</c>, <c>joining</c>, <c>leaving</c>, ...), or null when it is no member
/// of any cluster (starting, or a new incarnation still looking for one).
/// </summary>
public sealed record JoinProbeAnswer(string Name, string? Status);
