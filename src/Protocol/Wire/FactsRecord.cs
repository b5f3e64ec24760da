namespace Mesh.Protocol.Wire;

/// <summary>
/// One node's facts as it publishes them to the others: the facts it gathered (a JSON object, as
/// text: hostname, os, kernel, addresses, …, custom facts) and the facts it failed to gather. Its
/// name, roles and labels are not in it; they travel with its membership. Written by that node
/// alone, and only when something changed.
/// </summary>
public sealed record FactsRecord(string Node, string Values, string[] Errors);
