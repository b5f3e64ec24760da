namespace Mesh.Protocol.Wire;

/// <summary>Asks a node's converger to re-check everything it enforces now, rather than at its next interval.</summary>
public sealed record ConvergeNow;

/// <summary>The node will re-check; its reports follow on the report topic.</summary>
public sealed record ConvergeAccepted(string Node, int Manifests);
