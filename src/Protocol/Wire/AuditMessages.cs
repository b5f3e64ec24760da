namespace Mesh.Protocol.Wire;

/// <summary>
/// One line of a node's audit trail: what it was asked to do (a push it accepted, a revision it
/// received) and what it did (applied, failed, repaired drift), by whom and when.
/// </summary>
public sealed record AuditEntry(DateTimeOffset Time, string Node, string Kind, string Manifest, string Version, string Who, string Detail);

/// <summary>Asks a node for its audit entries since a time (newest <see cref="Limit"/> of them).</summary>
public sealed record AuditQuery(DateTimeOffset? Since, int Limit);

public sealed record AuditEntries(string Node, AuditEntry[] Entries);
