#!/bin/bash
# Answer files for the xcpbuild appliance installer, in preseed (debconf) syntax:
#   <owner> <question> <type> <value...>
# Lines owned by "d-i" answer the installer; any other owner is a debconf
# selection seeded into the installed system. Sourced by the installer;
# run as "answers.sh check FILE" it validates FILE (xcpbuild preseed check).

# The installer's own questions and the types they must be given with.
declare -gA XCP_KEY_TYPES=(
  [xcp/target-disk]=string
  [xcp/root-size]=string
  [xcp/vm-volume-group]=string
  [netcfg/get_hostname]=string
  [netcfg/get_domain]=string
  [netcfg/choose_interface]=select
  [xcp/network]=select
  [netcfg/get_ipaddress]=string
  [netcfg/get_netmask]=string
  [netcfg/get_gateway]=string
  [netcfg/get_nameservers]=string
  [time/zone]=string
  [passwd/root-password-crypted]=password
  [xcp/ssh-authorized-key]=string
  [xcp/xen-cmdline]=string
  [xcp/dom0-cmdline]=string
  [xcp/finish]=select
  [base-installer/initramfs-tools/driver-policy]=select
  [xcp/network-backend]=select
  [xcp/channel]=string
  [pkgsel/include]=string
  [preseed/late_command]=string
)

declare -gA ANSWER=()        # key -> value (last one wins, except multi-valued keys)
declare -ga SSH_KEYS=()
declare -ga SELECTIONS=()    # debconf lines for the target
declare -ga ANSWER_ERRORS=()

answer_error() { ANSWER_ERRORS+=("$1"); }

# parse_answers FILE: fills ANSWER, SSH_KEYS, SELECTIONS; syntax errors go to ANSWER_ERRORS.
parse_answers() {
  local file=$1 n=0 start=0 line logical="" owner key type value
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    [ -z "$logical" ] && start=$n
    if [[ $line == *\\ ]]; then logical+="${line%\\} "; continue; fi
    logical+=$line
    line=$logical; logical=""
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    read -r owner key type value <<<"$line"
    if [ -z "$type" ]; then
      answer_error "$file:$start: expected '<owner> <question> <type> <value>', found '$line'"
      continue
    fi
    if [ "$owner" != "d-i" ]; then
      if [[ ! $owner =~ ^[a-z0-9][a-z0-9+.-]*$ ]] || [[ ! $key =~ ^[A-Za-z0-9][A-Za-z0-9+._/-]*$ ]] || [[ ! $type =~ ^[a-z]+$ ]]; then
        answer_error "$file:$start: expected a debconf selection '<package> <question> <type> <value>', found '${line:0:60}'"
      else
        SELECTIONS+=("$owner $key $type $value")
      fi
      continue
    fi
    case $key in
      passwd/root-password|passwd/root-password-again|passwd/user-password*)
        answer_error "$file:$start: $key: plain-text passwords are not accepted; give passwd/root-password-crypted (a crypt(3) hash, e.g. from mkpasswd -m sha-512)"
        continue ;;
    esac
    if [ -z "${XCP_KEY_TYPES[$key]+x}" ]; then
      answer_error "$file:$start: $key: unknown installer question (expected one of: $(printf "%s\n" "${!XCP_KEY_TYPES[@]}" | sort | paste -sd " "))"
      continue
    fi
    if [ "${XCP_KEY_TYPES[$key]}" != "$type" ]; then
      answer_error "$file:$start: $key: expected type ${XCP_KEY_TYPES[$key]}, found $type"
      continue
    fi
    if [ "$key" = xcp/ssh-authorized-key ]; then SSH_KEYS+=("$value"); else ANSWER[$key]=$value; fi
    ANSWER_LINE[$key]=$start
  done <"$file"
}
declare -gA ANSWER_LINE=()

# validate_answers FILE MODE: checks values; MODE=automated also requires credentials and a disk.
validate_answers() {
  local file=$1 mode=$2 v
  at() { echo "$file:${ANSWER_LINE[$1]:-0}: $1"; }
  v=${ANSWER[xcp/target-disk]:-}
  if [ -n "$v" ] && [ "$v" != auto ] && [[ ! $v =~ ^/dev/[A-Za-z0-9/_-]+$ ]]; then
    answer_error "$(at xcp/target-disk): expected a device path such as /dev/sda or 'auto', found '$v'"
  fi
  v=${ANSWER[xcp/root-size]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[0-9]+[MG]$ ]]; then answer_error "$(at xcp/root-size): expected a size such as 8G or 4096M, found '$v'"; fi
  v=${ANSWER[xcp/vm-volume-group]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[A-Za-z0-9_][A-Za-z0-9_.+-]*$ ]]; then answer_error "$(at xcp/vm-volume-group): expected an LVM volume group name, found '$v'"; fi
  v=${ANSWER[xcp/channel]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[a-z][a-z0-9-]{0,39}$ ]]; then answer_error "$(at xcp/channel): expected an update channel name such as stable or nightly (lowercase letters, digits, -), found '$v'"; fi
  v=${ANSWER[netcfg/get_hostname]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]]; then answer_error "$(at netcfg/get_hostname): expected a host name (letters, digits, -), found '$v'"; fi
  v=${ANSWER[xcp/network]:-dhcp}
  case $v in
    dhcp) ;;
    static)
      local k
      for k in netcfg/get_ipaddress netcfg/get_netmask netcfg/get_gateway; do
        [ -n "${ANSWER[$k]:-}" ] || answer_error "$file:${ANSWER_LINE[xcp/network]:-0}: xcp/network: static needs $k"
      done
      v=${ANSWER[netcfg/get_ipaddress]:-}
      if [ -n "$v" ] && [[ ! $v =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}(/[0-9]{1,2})?$ ]]; then answer_error "$(at netcfg/get_ipaddress): expected an IPv4 address, found '$v'"; fi
      ;;
    *) answer_error "$(at xcp/network): expected dhcp or static, found '$v'" ;;
  esac
  v=${ANSWER[passwd/root-password-crypted]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^\$(1|5|6|y|gy|7|2b)\$[./A-Za-z0-9$=,]+$ ]]; then
    answer_error "$(at passwd/root-password-crypted): expected a crypt(3) hash such as \$6\$salt\$hash or \$y\$…, found something else"
  fi
  local key
  for key in "${SSH_KEYS[@]}"; do
    [[ $key =~ ^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+)\ [A-Za-z0-9+/=]+(\ [[:print:]]*)?$ ]] || answer_error "$file: xcp/ssh-authorized-key: expected an OpenSSH public key, found '${key:0:40}'"
  done
  local k
  for k in xcp/xen-cmdline xcp/dom0-cmdline; do
    v=${ANSWER[$k]:-}
    if [ -n "$v" ] && [[ ! $v =~ ^[A-Za-z0-9_.,:=+/@%-]+(\ [A-Za-z0-9_.,:=+/@%-]+)*$ ]]; then
      answer_error "$(at $k): expected kernel options (letters, digits and _ . , : = + / @ % -, separated by single spaces), found '${v:0:60}'"
    fi
  done
  v=${ANSWER[netcfg/choose_interface]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[A-Za-z0-9_.:-]{1,15}$ ]]; then answer_error "$(at netcfg/choose_interface): expected a network interface name or 'auto', found '${v:0:40}'"; fi
  v=${ANSWER[netcfg/get_domain]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[A-Za-z0-9.-]{1,253}$ ]]; then answer_error "$(at netcfg/get_domain): expected a domain name, found '${v:0:60}'"; fi
  for k in netcfg/get_netmask netcfg/get_gateway; do
    v=${ANSWER[$k]:-}
    if [ -n "$v" ] && [[ ! $v =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]]; then answer_error "$(at $k): expected an IPv4 address, found '${v:0:40}'"; fi
  done
  v=${ANSWER[netcfg/get_nameservers]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[0-9A-Fa-f.:]+(\ [0-9A-Fa-f.:]+)*$ ]]; then answer_error "$(at netcfg/get_nameservers): expected IP addresses separated by spaces, found '${v:0:60}'"; fi
  v=${ANSWER[xcp/finish]:-reboot}
  case $v in reboot|poweroff) ;; *) answer_error "$(at xcp/finish): expected reboot or poweroff, found '$v'" ;; esac
  v=${ANSWER[base-installer/initramfs-tools/driver-policy]:-most}
  case $v in most|dep) ;; *) answer_error "$(at base-installer/initramfs-tools/driver-policy): expected most or dep, found '$v'" ;; esac
  v=${ANSWER[xcp/network-backend]:-bridge}
  case $v in bridge|openvswitch) ;; *) answer_error "$(at xcp/network-backend): expected bridge or openvswitch, found '${v:0:40}'" ;; esac
  v=${ANSWER[pkgsel/include]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[a-z0-9][a-z0-9+.-]*(\ [a-z0-9][a-z0-9+.-]*)*$ ]]; then
    answer_error "$(at pkgsel/include): expected package names separated by spaces, found '${v:0:60}'"
  fi
  v=${ANSWER[time/zone]:-}
  if [ -n "$v" ] && [[ ! $v =~ ^[A-Za-z0-9_+/-]+$ ]]; then answer_error "$(at time/zone): expected a time zone such as Europe/Berlin or UTC, found '$v'"; fi
  if [ "$mode" = automated ]; then
    [ -n "${ANSWER[xcp/target-disk]:-}" ] || answer_error "$file: xcp/target-disk: an automated install needs a target disk (a device path or 'auto')"
    if [ -z "${ANSWER[passwd/root-password-crypted]:-}" ] && [ ${#SSH_KEYS[@]} -eq 0 ]; then
      answer_error "$file: no credentials: an automated install needs passwd/root-password-crypted or at least one xcp/ssh-authorized-key (there is no default password)"
    fi
  fi
}

# redact_answers FILE: the answer file without the values of password questions (kept on the installed host).
redact_answers() {
  sed -E -e 's/^([[:space:]]*#?[[:space:]]*[^[:space:]]+[[:space:]]+[^[:space:]]*passw[^[:space:]]*[[:space:]]+password[[:space:]]+).*/\1<redacted>/' \
    -e 's/\$(1|5|6|y|gy|7|2b)\$[./A-Za-z0-9$=,]+/<redacted>/g' "$1"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  if [ "${1:-}" != check ] || [ $# -lt 2 ]; then
    echo "usage: answers.sh check FILE [interactive|automated]" >&2
    exit 2
  fi
  [ -r "$2" ] || { echo "$2: cannot read the answer file" >&2; exit 2; }
  parse_answers "$2"
  validate_answers "$2" "${3:-automated}"
  if [ ${#ANSWER_ERRORS[@]} -gt 0 ]; then
    printf '%s\n' "${ANSWER_ERRORS[@]}" >&2
    exit 1
  fi
  echo "$2: valid (${#ANSWER[@]} installer answers, ${#SSH_KEYS[@]} ssh key(s), ${#SELECTIONS[@]} debconf selection(s))"
fi
