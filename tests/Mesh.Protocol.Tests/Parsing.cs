using Mesh.Protocol.Manifests;

namespace Mesh.Protocol.Tests;

/// <summary>Parses manifest text the way a push does, under one fixed source name.</summary>
internal static class Parsing
{
    public const string Source = "site/web.yaml";

    public static Manifest Parse(string yaml) => ManifestParser.Parse(yaml, Source);

    public static IReadOnlyList<ManifestError> ErrorsIn(string yaml) =>
        Assert.Throws<ManifestException>(() => ManifestParser.Parse(yaml, Source)).Errors;

    public static ManifestError OnlyErrorIn(string yaml) => Assert.Single(ErrorsIn(yaml));

    /// <summary>
    /// A manifest of one resource written in flow style on line 3, so the column of any of its
    /// values is its offset in the flow text plus the four characters of "  - ".
    /// </summary>
    public static string OneResource(string flow) => $"manifest: web\nresources:\n  - {flow}\n";

    /// <summary>Asserts the only error of a one-resource manifest: its field, and that it points at <paramref name="at"/>.</summary>
    public static void AssertResourceError(string flow, string field, string at, string says) =>
        OnlyErrorIn(OneResource(flow)).AssertAt(3, 5 + flow.IndexOf(at, StringComparison.Ordinal), field, says);

    /// <summary>Asserts where an error points (1-based line and column, as YamlDotNet counts) and what it says.</summary>
    public static void AssertAt(this ManifestError error, int line, int column, string field, string says)
    {
        Assert.Equal(
            (Source, line, column, field),
            (error.Source, error.Line, error.Column, error.Field));
        Assert.Contains(says, error.Message);
    }

    /// <summary>Asserts a whole-file error: one with no position and no field.</summary>
    public static void AssertWholeFile(this ManifestError error, string says)
    {
        Assert.Equal((Source, 0, 0, ""), (error.Source, error.Line, error.Column, error.Field));
        Assert.Contains(says, error.Message);
    }

    /// <summary>Compares resources by value, including their <c>requires</c> lists (arrays compare by reference in records).</summary>
    public static void AssertSameResource(ResourceSpec expected, ResourceSpec actual)
    {
        Assert.Equal(expected.Requires, actual.Requires);
        Assert.Equal(expected with { Requires = actual.Requires }, actual);
    }

    public static UnixMode Mode(string octal) => new(Convert.ToInt32(octal, 8));

    /// <summary>The checkout the tests run from (for the shipped examples).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.sln"))) return dir.FullName;
        throw new InvalidOperationException("Mesh.sln not found above " + AppContext.BaseDirectory);
    }
}
