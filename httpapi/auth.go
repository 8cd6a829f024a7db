package httpapi

import (
	"context"
	stdjson "encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/cairnkv/cairn"
)

// POST /v3/auth/...: etcd's Auth service over the gateway (etcdserverpb
// Auth*Request / Auth*Response), served when the backend is a cairn.Auth.
// /v3/auth/status is etcd 3.5's (etcd 3.4 answers 404). Who may call each
// is its policy (authz.go): authenticate and status anyone; user/get and
// role/get the user itself, a holder of the role, or an admin; the rest
// an admin (while auth is on).

// authRoutes registers the /v3/auth endpoints under prefix.
func (a *api) authRoutes(r chi.Router, prefix string, g func(policy, http.HandlerFunc) http.HandlerFunc) {
	for _, e := range []struct {
		path string
		p    policy
		fn   v3Func
	}{
		{"/auth/enable", policyAdmin, a.authEnable},
		{"/auth/disable", policyAdmin, a.authDisable},
		{"/auth/status", policyPublic, a.authStatus},
		{"/auth/authenticate", policyPublic, a.authAuthenticate},
		{"/auth/user/add", policyAdmin, a.authUserAdd},
		{"/auth/user/get", policyAuthRead, a.authUserGet},
		{"/auth/user/list", policyAdmin, a.authUserList},
		{"/auth/user/delete", policyAdmin, a.authUserDelete},
		{"/auth/user/changepw", policyAdmin, a.authUserChangePW},
		{"/auth/user/grant", policyAdmin, a.authUserGrant},
		{"/auth/user/revoke", policyAdmin, a.authUserRevoke},
		{"/auth/role/add", policyAdmin, a.authRoleAdd},
		{"/auth/role/get", policyAuthRead, a.authRoleGet},
		{"/auth/role/list", policyAdmin, a.authRoleList},
		{"/auth/role/delete", policyAdmin, a.authRoleDelete},
		{"/auth/role/grant", policyAdmin, a.authRoleGrant},
		{"/auth/role/revoke", policyAdmin, a.authRoleRevoke},
	} {
		r.Post(prefix+e.path, g(e.p, a.notForLearner(a.v3(e.fn))))
	}
}

// The fields of the auth requests, one table for all of them (each request
// type has some: see parseAuth's callers).
const (
	authFieldName = iota
	authFieldPassword
	authFieldOptions
	authFieldUser
	authFieldRole
	authFieldPerm
	authFieldKey
	authFieldRangeEnd
	authFields
)

func authField(name []byte) (int, bool) {
	switch string(name) {
	case "name":
		return authFieldName, false
	case "password":
		return authFieldPassword, false
	case "options":
		return authFieldOptions, false
	case "user":
		return authFieldUser, false
	case "role":
		return authFieldRole, false
	case "perm":
		return authFieldPerm, false
	case "key":
		return authFieldKey, false
	case "range_end":
		return authFieldRangeEnd, false
	case "rangeEnd":
		return authFieldRangeEnd, true
	}
	return -1, false
}

// authRequest is any auth request, decoded.
type authRequest struct {
	name, password, user, role string
	noPassword                 bool
	perm                       *cairn.Permission
	key, rangeEnd              []byte
}

// permTypeEnum is etcd's authpb.Permission_Type.
var permTypeEnum = &enumType{protoName: "authpb.Permission_Type", names: cairn.PermTypeNames[:]}

// parseAuth decodes an auth request body; fields says which fields its type
// has (others are ignored, as unknown names).
func parseAuth(d *decoder, fields ...int) (*authRequest, error) {
	req := new(authRequest)
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return req, err
	}
	var slots [authFields]slot
	d.collect(start, slots[:], authField)
	for _, f := range fields {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		switch f {
		case authFieldName:
			req.name, err = d.stringField(sp)
		case authFieldPassword:
			req.password, err = d.stringField(sp)
		case authFieldUser:
			req.user, err = d.stringField(sp)
		case authFieldRole:
			req.role, err = d.stringField(sp)
		case authFieldOptions:
			req.noPassword, err = d.userAddOptions(sp)
		case authFieldPerm:
			req.perm, err = d.permission(sp)
		case authFieldKey:
			req.key, err = d.bytesField(sp)
		case authFieldRangeEnd:
			req.rangeEnd, err = d.bytesField(sp)
		}
		if err != nil {
			return nil, err
		}
	}
	return req, nil
}

// stringField decodes a string field.
func (d *decoder) stringField(sp span) (string, error) {
	raw := d.b[sp.s:sp.e]
	switch c := raw[0]; c {
	case '"':
		var s string
		if err := stdjson.Unmarshal(raw, &s); err != nil {
			return "", &parseError{msg: err.Error()}
		}
		return s, nil
	case 'n':
		return "", nil
	default:
		return "", typeError(kindOf(c), "string")
	}
}

// userAddOptions decodes authpb.UserAddOptions: its no_password.
func (d *decoder) userAddOptions(sp span) (bool, error) {
	ok, err := d.message(sp)
	if err != nil || !ok {
		return false, err
	}
	var slots [1]slot
	d.collect(sp.s, slots[:], func(name []byte) (int, bool) {
		switch string(name) {
		case "no_password":
			return 0, false
		case "noPassword":
			return 0, true
		}
		return -1, false
	})
	if v := slots[0].value(); v.s != 0 {
		return d.boolField(v)
	}
	return false, nil
}

// permission decodes an authpb.Permission: permType, key, range_end.
func (d *decoder) permission(sp span) (*cairn.Permission, error) {
	ok, err := d.message(sp)
	if err != nil || !ok {
		return nil, err
	}
	var slots [3]slot
	d.collect(sp.s, slots[:], func(name []byte) (int, bool) {
		switch string(name) {
		case "permType":
			return 0, false
		case "key":
			return 1, false
		case "range_end":
			return 2, false
		case "rangeEnd":
			return 2, true
		}
		return -1, false
	})
	p := new(cairn.Permission)
	if v := slots[0].value(); v.s != 0 {
		t, err := d.enumField(v, permTypeEnum)
		if err != nil {
			return nil, err
		}
		p.PermType = cairn.PermType(t)
	}
	if v := slots[1].value(); v.s != 0 {
		if p.Key, err = d.bytesField(v); err != nil {
			return nil, err
		}
	}
	if v := slots[2].value(); v.s != 0 {
		if p.RangeEnd, err = d.bytesField(v); err != nil {
			return nil, err
		}
	}
	if p.PermType < cairn.PermRead || p.PermType > cairn.PermReadWrite {
		return nil, &parseError{msg: "invalid permission type"}
	}
	return p, nil
}

// authCall decodes the fields and calls fn with them.
func authCall(d *decoder, fn func(*authRequest) (*cairn.AuthResponse, error), fields ...int) (response, error) {
	req, err := parseAuth(d, fields...)
	if err != nil {
		return nil, err
	}
	resp, err := fn(req)
	if err != nil {
		return nil, err
	}
	return (*authResponse)(resp), nil
}

func (a *api) authEnable(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(*authRequest) (*cairn.AuthResponse, error) { return a.auth.AuthEnable(ctx) })
}

func (a *api) authDisable(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(*authRequest) (*cairn.AuthResponse, error) { return a.auth.AuthDisable(ctx) })
}

func (a *api) authStatus(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(*authRequest) (*cairn.AuthResponse, error) { return a.auth.AuthStatus(ctx) })
}

func (a *api) authAuthenticate(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.Authenticate(ctx, r.name, r.password)
	}, authFieldName, authFieldPassword)
}

func (a *api) authUserAdd(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.UserAdd(ctx, r.name, r.password, cairn.UserAddOptions{NoPassword: r.noPassword})
	}, authFieldName, authFieldPassword, authFieldOptions)
}

func (a *api) authUserGet(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		// etcd: a user may read itself.
		if info, ok := requester(ctx); ok && info.User != r.name {
			if err := a.authz.CheckAdmin(info); err != nil {
				return nil, err
			}
		}
		return a.auth.UserGet(ctx, r.name)
	}, authFieldName)
}

func (a *api) authUserList(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(*authRequest) (*cairn.AuthResponse, error) { return a.auth.UserList(ctx) })
}

func (a *api) authUserDelete(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.UserDelete(ctx, r.name)
	}, authFieldName)
}

func (a *api) authUserChangePW(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.UserChangePassword(ctx, r.name, r.password)
	}, authFieldName, authFieldPassword)
}

// user/grant names the user "user", user/revoke "name" (etcd's protos).
func (a *api) authUserGrant(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.UserGrantRole(ctx, r.user, r.role)
	}, authFieldUser, authFieldRole)
}

func (a *api) authUserRevoke(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.UserRevokeRole(ctx, r.name, r.role)
	}, authFieldName, authFieldRole)
}

func (a *api) authRoleAdd(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.RoleAdd(ctx, r.name)
	}, authFieldName)
}

func (a *api) authRoleGet(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		// etcd: a user may read the roles it holds.
		if info, ok := requester(ctx); ok && !a.authz.HasRole(info, r.role) {
			if err := a.authz.CheckAdmin(info); err != nil {
				return nil, err
			}
		}
		return a.auth.RoleGet(ctx, r.role)
	}, authFieldRole)
}

func (a *api) authRoleList(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(*authRequest) (*cairn.AuthResponse, error) { return a.auth.RoleList(ctx) })
}

func (a *api) authRoleDelete(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.RoleDelete(ctx, r.role)
	}, authFieldRole)
}

// role/grant names the role "name", role/revoke "role" (etcd's protos).
func (a *api) authRoleGrant(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.RoleGrantPermission(ctx, r.name, r.perm)
	}, authFieldName, authFieldPerm)
}

func (a *api) authRoleRevoke(ctx context.Context, d *decoder) (response, error) {
	return authCall(d, func(r *authRequest) (*cairn.AuthResponse, error) {
		return a.auth.RoleRevokePermission(ctx, r.role, r.key, r.rangeEnd)
	}, authFieldRole, authFieldKey, authFieldRangeEnd)
}

type authResponse cairn.AuthResponse

// appendJSON appends an etcdserverpb.Auth*Response: header, then the
// fields its message has (zero ones left out, as the gateway does).
func (r *authResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	if r.Token != "" {
		b = appendName(b, &f, "token")
		b = appendString(b, r.Token)
	}
	b = appendBool(b, &f, "enabled", r.Enabled)
	b = appendUint64(b, &f, "authRevision", r.AuthRevision)
	b = appendStrings(b, &f, "users", r.Users)
	b = appendStrings(b, &f, "roles", r.Roles)
	if len(r.Perm) > 0 {
		b = appendName(b, &f, "perm")
		b = append(b, '[')
		for i := range r.Perm {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPermission(b, &r.Perm[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendPermission appends an authpb.Permission; READ, the zero value, is
// left out as etcd's gateway leaves it out.
func appendPermission(b []byte, p *cairn.Permission) []byte {
	b = append(b, '{')
	f := true
	if p.PermType != cairn.PermRead {
		b = appendName(b, &f, "permType")
		b = appendString(b, permTypeEnum.name(int32(p.PermType)))
	}
	b = appendBytes(b, &f, "key", p.Key)
	b = appendBytes(b, &f, "range_end", p.RangeEnd)
	return append(b, '}')
}
