using System.Text.RegularExpressions;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Facts;

/// <summary>
/// Which manifests must be rendered again when the fleet changes: those with a template that
/// names <c>nodes</c>; when this node's own facts change, those with any template (they may read
/// <c>node.*</c>). Read from the template text, so nothing needs recording while rendering.
/// </summary>
public static partial class FleetReaders
{
    [GeneratedRegex(@"\bnodes\b")]
    private static partial Regex NodesPattern();

    public static bool Reads(Manifest manifest, FleetChanged change) =>
        manifest.Resources.OfType<FileResource>().Any(f => f.Template is { } t && (change.OwnFacts || ReadsNodes(t)));

    public static bool ReadsNodes(string template) => NodesPattern().IsMatch(template);
}
