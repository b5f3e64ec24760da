namespace Mesh.Protocol.Manifests;

/// <summary>One problem found in a manifest, located by file, line, column and field path.</summary>
public sealed record ManifestError(string Source, int Line, int Column, string Field, string Message)
{
    public override string ToString()
    {
        var where = Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
        return string.IsNullOrEmpty(Field) ? $"{where}: {Message}" : $"{where}: {Field}: {Message}";
    }
}

/// <summary>Thrown when a manifest does not parse or validate; carries every error found.</summary>
public sealed class ManifestException(IReadOnlyList<ManifestError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ManifestError> Errors { get; } = errors;
}
