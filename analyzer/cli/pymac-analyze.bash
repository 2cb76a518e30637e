# bash completion for pymac-analyze                      -*- shell-script -*-
# Installed as bash-completion/completions/pymac-analyze. The views and
# options come from `pymac-analyze --help` (read once per shell), so they
# are the binary's own; --type completes the type names of the core already
# on the line (`pymac-analyze types --json CORE`), when that answers within
# PYMAC_COMPLETE_TIMEOUT seconds (default 2; a large core's census takes
# longer, and then no names are offered), remembered per core.
# shellcheck disable=SC2207  # COMPREPLY=($(compgen ...)), split on newlines only

_pymac_analyze_help()
{
    [[ -n ${_pymac_analyze_views-} ]] && return
    local help
    help=$("$1" --help 2>/dev/null) || return
    # Views: the first word of the two-space-indented lines of "Views:", and
    # the aliases; options: every --word of the text
    _pymac_analyze_views=$(awk '/^Views:/ { v = 1; next } /^[A-Z][a-z ]*:$/ { v = 0 }
        v && /^  [a-z]/ { print $1 }
        v && match($0, /\(alias: [a-z-]+\)/) { print substr($0, RSTART + 8, RLENGTH - 9) }' \
        <<<"$help")
    _pymac_analyze_opts=$(grep -oE -- '(^|[^a-z-])--[a-z][a-z-]*' <<<"$help" |
        sed 's/^[^-]*//' | sort -u)
}

# The type names in the core at $2 (after the cached ones for the same file).
_pymac_analyze_types()
{
    local cmd=$1 core=$2 key
    [[ -f $core ]] || return
    key="$core:$(stat -c %Y:%s -- "$core" 2>/dev/null)"
    if [[ $key != "${_pymac_analyze_types_key-}" ]]; then
        _pymac_analyze_types_key=$key
        _pymac_analyze_types_list=$(timeout "${PYMAC_COMPLETE_TIMEOUT:-2}" \
            "$cmd" types --json -- "$core" 2>/dev/null |
            grep -oE '"type": "[^"]*"' | sed 's/^"type": "//; s/"$//' | sort -u)
    fi
    printf '%s\n' "$_pymac_analyze_types_list"
}

_pymac_analyze()
{
    local cur prev cmd=${COMP_WORDS[0]} IFS=$'\n'
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    _pymac_analyze_help "$cmd"

    case $prev in
    --exe | --baseline | --html)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --debug-dir)
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --pid)
        COMPREPLY=($(compgen -W "$(cd /proc && printf '%s\n' [0-9]*)" -- "$cur"))
        return
        ;;
    --type)
        # the core: the first word after the view that is a file (before
        # or after the cursor)
        local i w core="" seen_view=""
        for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
            ((i == COMP_CWORD)) && continue
            w=${COMP_WORDS[i]}
            case ${COMP_WORDS[i - 1]} in
            --exe | --baseline | --html | --debug-dir | --pid | --type | --arena | --size-class | \
                --gen | --min-size | --limit) continue ;;
            esac
            [[ $w == -* ]] && continue
            if [[ -z $seen_view ]] && grep -qxF -- "$w" <<<"$_pymac_analyze_views"; then
                seen_view=$w
                continue
            fi
            if [[ -f $w ]]; then
                core=$w
                break
            fi
        done
        [[ -n $core ]] && COMPREPLY=($(compgen -W "$(_pymac_analyze_types "$cmd" "$core")" -- "$cur"))
        return
        ;;
    --arena | --size-class | --gen | --min-size | --limit)
        return
        ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$_pymac_analyze_opts" -- "$cur"))
        return
    fi
    # a view until one is given (or a core), then files
    local i w have_view=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        [[ $w == -* ]] && continue
        case ${COMP_WORDS[i - 1]} in
        --exe | --baseline | --html | --debug-dir | --pid | --type | --arena | --size-class | \
            --gen | --min-size | --limit) continue ;;
        esac
        have_view=1
        break
    done
    if [[ -z $have_view ]]; then
        COMPREPLY=($(compgen -W "$_pymac_analyze_views" -- "$cur"))
    fi
    COMPREPLY+=($(compgen -f -- "$cur"))
}
complete -F _pymac_analyze -o filenames pymac-analyze
