using System.Text;

namespace Mesh.Node.Service;

/// <summary>
/// A writer that puts a journald priority (<c>&lt;N&gt;</c>) before every line it passes on: the
/// node's own lines on stdout (info) and stderr (warnings), under journald.
/// </summary>
public sealed class JournalWriter(TextWriter inner, int priority) : TextWriter
{
    private bool _lineStart = true;

    /// <summary><paramref name="writer"/> itself when the output does not go to journald.</summary>
    public static TextWriter For(TextWriter writer, int priority) =>
        Journal.Active ? Synchronized(new JournalWriter(writer, priority)) : writer;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (_lineStart && value != '\n') inner.Write($"<{priority}>");
        inner.Write(value);
        _lineStart = value == '\n';
    }

    public override void Write(string? value)
    {
        foreach (var c in value ?? "") Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Write('\n');
    }

    public override void Flush() => inner.Flush();
}
