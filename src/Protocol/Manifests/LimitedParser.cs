using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// Enforces <see cref="ManifestParser.MaxDepth"/> and <see cref="ManifestParser.MaxValues"/> on the
/// YAML events, before YamlDotNet builds any node. Checking the built nodes is too late: node
/// building recurses once per level, so a document nested many thousand levels deep overflows the
/// stack (which no catch survives), and an alias bomb used as a mapping key is hashed, value by
/// expanded value, while its mapping is built. Depth and values count as if every alias were
/// expanded in place; the root is level 1.
/// </summary>
internal sealed class LimitedParser(IParser inner) : IParser
{
    private readonly record struct Size(long Values, int Height);

    private sealed class Open(NodeEvent start)
    {
        public AnchorName Anchor => start.Anchor;
        public NodeEvent Start => start;
        public long Values = 1;
        public int Height = 1;
        /// <summary>Direct children: keys and values alike, so a mapping's count is even.</summary>
        public int Children;
    }

    private readonly Stack<Open> _open = new();
    private readonly Dictionary<AnchorName, Size> _anchors = [];
    private long _values;

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        if (!inner.MoveNext()) return false;
        switch (inner.Current)
        {
            case MappingStart or SequenceStart:
                var start = (NodeEvent)inner.Current;
                Count(start, new Size(1, 1));
                // YamlDotNet binds the name to this node as it starts: an alias of the name inside
                // it is the node itself (a cycle), even when an earlier node had the same name.
                if (!start.Anchor.IsEmpty) _anchors.Remove(start.Anchor);
                _open.Push(new Open(start));
                break;
            case MappingEnd or SequenceEnd:
                var done = _open.Pop();
                // YamlDotNet's parser drops the empty key of ": value" in a nested block mapping, and
                // its node builder then fails with an ArgumentException: refuse the mapping here instead.
                if (done.Start is MappingStart && done.Children % 2 == 1)
                    throw new YamlException(done.Start.Start, done.Start.End, "a mapping entry has no key (': value'); write the key, or quote an empty one as ''");
                Completed(done.Anchor, new Size(done.Values, done.Height));
                break;
            case Scalar scalar:
                Count(scalar, new Size(1, 1));
                Completed(scalar.Anchor, new Size(1, 1));
                break;
            case AnchorAlias alias:
                // Only a complete node can be expanded: this also refuses self-referencing (infinite) structures.
                if (!_anchors.TryGetValue(alias.Value, out var size))
                    throw new YamlException(alias.Start, alias.End, $"the alias *{alias.Value} does not refer to a complete node anchored before it");
                Count(alias, size);
                Completed(AnchorName.Empty, size);
                break;
        }
        return true;
    }

    /// <summary>Checks that a node of this expanded size fits where it starts.</summary>
    private void Count(ParsingEvent at, Size size)
    {
        if (_open.Count + size.Height > ManifestParser.MaxDepth)
            throw new LimitExceededException(at.Start, at.End, $"nesting deeper than {ManifestParser.MaxDepth} levels");
        _values += at is AnchorAlias ? size.Values : 1;
        if (_values > ManifestParser.MaxValues)
            throw new LimitExceededException(at.Start, at.End, $"the manifest holds more than {ManifestParser.MaxValues} values (after expanding aliases)");
    }

    /// <summary>Adds a finished node to its parent, and remembers its size when it is anchored.</summary>
    private void Completed(AnchorName anchor, Size size)
    {
        if (!anchor.IsEmpty) _anchors[anchor] = size;
        if (_open.TryPeek(out var parent))
        {
            parent.Values += size.Values;
            parent.Children++;
            parent.Height = Math.Max(parent.Height, size.Height + 1);
        }
    }
}

/// <summary>A document refused by <see cref="LimitedParser"/>: valid YAML, but more than a manifest may hold.</summary>
internal sealed class LimitExceededException(Mark start, Mark end, string message) : YamlException(start, end, message);
