#compdef mesh
# zsh completion for mesh (commands, flags with descriptions, manifest and node names).
# Install: mesh completion zsh > "${fpath[1]}/_mesh" (the Debian package ships it in
# /usr/share/zsh/vendor-completions), or add to ~/.zshrc after compinit: source <(mesh completion zsh)
# Every TAB asks `mesh __complete`; names come from the node the line names (--api,
# --token-file, else MESH_API): none, quickly, when it is down.

_mesh() {
    local -a lines candidates
    local line word detail
    lines=("${(@f)$(${words[1]} __complete -- "${(@)words[2,CURRENT-1]}" "$PREFIX" 2>/dev/null)}")
    if [[ ${lines[1]} == :files ]]; then
        _files
        return
    fi
    for line in "${lines[@]}"; do
        [[ -n $line ]] || continue
        word=${line%%$'\t'*} detail=
        [[ $line == *$'\t'* ]] && detail=${line#*$'\t'}
        # _describe takes "word:description"; a colon in the word itself is escaped.
        candidates+=("${word//:/\\:}${detail:+:$detail}")
    done
    (( ${#candidates} )) && _describe -t mesh mesh candidates
}

# Autoloaded from $fpath, this file is the function's body; sourced, it registers it.
if [[ $funcstack[1] == _mesh ]]; then
    _mesh "$@"
else
    compdef _mesh mesh
fi
