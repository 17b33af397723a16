package store

import (
	"context"

	"regulars"
)

// Canned responses belong to a partner, or (partner_id NULL) to the
// tenant as defaults every partner sees. partnerID 0 below means the
// tenant's defaults.

var (
	qCannedCatInsert = query("canned_category_insert", `INSERT INTO canned_categories (tenant_id, partner_id, name, created_at) VALUES (?, ?, ?, ?) RETURNING id`)
	qCannedCatUpdate = query("canned_category_update", `UPDATE canned_categories SET name = ? WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	qCannedCatDelete = query("canned_category_delete", `DELETE FROM canned_categories WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	qCannedCatGet    = query("canned_category_get", `SELECT id, tenant_id, COALESCE(partner_id, 0), name, created_at FROM canned_categories WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	// The partner's own categories and the tenant's defaults.
	qCannedCatsFor = query("canned_categories_for", `SELECT id, tenant_id, COALESCE(partner_id, 0), name, created_at FROM canned_categories
		WHERE tenant_id = ? AND (partner_id IS NULL OR partner_id = ?) ORDER BY CASE WHEN partner_id IS NULL THEN 1 ELSE 0 END, lower(name), id`)
	qCannedCatCount = query("canned_category_responses", `SELECT COUNT(*) FROM canned_responses WHERE category_id = ?`)

	qCannedInsert = query("canned_insert", `INSERT INTO canned_responses (tenant_id, partner_id, category_id, title, text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qCannedUpdate = query("canned_update", `UPDATE canned_responses SET category_id = ?, title = ?, text = ?, updated_at = ? WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	qCannedDelete = query("canned_delete", `DELETE FROM canned_responses WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	qCannedGet    = query("canned_get", `SELECT id, tenant_id, COALESCE(partner_id, 0), category_id, title, text, created_at, updated_at FROM canned_responses WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	qCannedFor    = query("canned_for", `SELECT id, tenant_id, COALESCE(partner_id, 0), category_id, title, text, created_at, updated_at FROM canned_responses
		WHERE tenant_id = ? AND (partner_id IS NULL OR partner_id = ?) ORDER BY lower(title), id`)
)

func scanCannedCategory(row interface{ Scan(...any) error }) (*regulars.CannedCategory, error) {
	var c regulars.CannedCategory
	var created int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.PartnerID, &c.Name, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMS(created)
	return &c, nil
}

func scanCanned(row interface{ Scan(...any) error }) (*regulars.CannedResponse, error) {
	var c regulars.CannedResponse
	var created, updated int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.PartnerID, &c.CategoryID, &c.Title, &c.Text, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return &c, nil
}

// cannedNameTaken turns a unique violation on a category name into a
// message on the name field.
func (db *DB) cannedNameTaken(err error) error {
	if db.dialect.isUnique(err) {
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"name": "A category with this name already exists."}}
	}
	return err
}

// CreateCannedCategory adds a category.
func (db *DB) CreateCannedCategory(ctx context.Context, c *regulars.CannedCategory) error {
	c.CreatedAt = db.now()
	id, err := db.insert(ctx, qCannedCatInsert, c.TenantID, nullID(c.PartnerID), c.Name, ms(c.CreatedAt))
	c.ID = id
	return db.cannedNameTaken(err)
}

// CannedCategory returns a category of the partner (0: the tenant's defaults).
func (db *DB) CannedCategory(ctx context.Context, tenantID, partnerID, id int64) (*regulars.CannedCategory, error) {
	c, err := scanCannedCategory(db.queryRow(ctx, qCannedCatGet, tenantID, partnerID, id))
	return c, notFound(err, "category")
}

// RenameCannedCategory renames a category.
func (db *DB) RenameCannedCategory(ctx context.Context, c *regulars.CannedCategory) error {
	_, err := db.exec(ctx, qCannedCatUpdate, c.Name, c.TenantID, c.PartnerID, c.ID)
	return db.cannedNameTaken(err)
}

// DeleteCannedCategory deletes an empty category; one with responses is
// refused with ECONFLICT.
func (db *DB) DeleteCannedCategory(ctx context.Context, c *regulars.CannedCategory) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		var n int64
		if err := db.queryRow(ctx, qCannedCatCount, c.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			if n == 1 {
				return regulars.Errorf(regulars.ECONFLICT, "The category %s still holds a response. Move or delete it first.", c.Name)
			}
			return regulars.Errorf(regulars.ECONFLICT, "The category %s still holds %d responses. Move or delete them first.", c.Name, n)
		}
		_, err := db.exec(ctx, qCannedCatDelete, c.TenantID, c.PartnerID, c.ID)
		return err
	})
}

// CannedCategories lists the categories a partner sees with their
// responses: its own first, then the tenant's defaults. partnerID 0 lists
// the tenant's defaults alone.
func (db *DB) CannedCategories(ctx context.Context, tenantID, partnerID int64) ([]*regulars.CannedCategory, error) {
	rows, err := db.queryRows(ctx, qCannedCatsFor, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	cats, err := collect(rows, scanCannedCategory)
	if err != nil {
		return nil, err
	}
	rows, err = db.queryRows(ctx, qCannedFor, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	responses, err := collect(rows, scanCanned)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*regulars.CannedCategory{}
	for _, c := range cats {
		byID[c.ID] = c
	}
	for _, r := range responses {
		if c := byID[r.CategoryID]; c != nil {
			c.Responses = append(c.Responses, r)
		}
	}
	return cats, nil
}

// CreateCanned adds a response.
func (db *DB) CreateCanned(ctx context.Context, c *regulars.CannedResponse) error {
	now := db.now()
	c.CreatedAt, c.UpdatedAt = now, now
	id, err := db.insert(ctx, qCannedInsert, c.TenantID, nullID(c.PartnerID), c.CategoryID, c.Title, c.Text, ms(now), ms(now))
	c.ID = id
	return err
}

// Canned returns a response of the partner (0: the tenant's defaults).
func (db *DB) Canned(ctx context.Context, tenantID, partnerID, id int64) (*regulars.CannedResponse, error) {
	c, err := scanCanned(db.queryRow(ctx, qCannedGet, tenantID, partnerID, id))
	return c, notFound(err, "canned response")
}

// UpdateCanned saves a response's category, title and text.
func (db *DB) UpdateCanned(ctx context.Context, c *regulars.CannedResponse) error {
	c.UpdatedAt = db.now()
	_, err := db.exec(ctx, qCannedUpdate, c.CategoryID, c.Title, c.Text, ms(c.UpdatedAt), c.TenantID, c.PartnerID, c.ID)
	return err
}

// DeleteCanned deletes a response.
func (db *DB) DeleteCanned(ctx context.Context, c *regulars.CannedResponse) error {
	_, err := db.exec(ctx, qCannedDelete, c.TenantID, c.PartnerID, c.ID)
	return err
}
